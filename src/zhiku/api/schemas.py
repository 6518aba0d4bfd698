"""Shared wire models: the error body, the base of every request model, and the models
several routers return (citations, jobs)."""

from __future__ import annotations

import re
from datetime import date
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

if TYPE_CHECKING:
    from zhiku.jobs import Job

# The largest id the API takes: exact in a JSON number (a double), which is what clients and
# schema-driven tools read the documented maximum as; database ids stay far below it.
MAX_ID = 2**53 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# A calendar day as documented (format: date); not a number of seconds since 1970.
Day = Annotated[date, BeforeValidator(_iso_day)]


def _scalar_types(annotation: Any) -> set[Any]:
    """The plain types an annotation allows (``int | None`` → int, NoneType)."""
    if get_origin(annotation) in (Union, UnionType):
        return set().union(*(_scalar_types(a) for a in get_args(annotation)))
    return {annotation} if isinstance(annotation, type) else set()


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently ignored, and numbers
    and booleans must be sent as such (``"5"`` and ``false`` are not numbers, ``0`` is not a
    boolean), as the schema says; ``5.0`` still counts as the integer 5."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(field.alias or name)
            kinds = _scalar_types(field.annotation) - {type(None)}
            if not kinds or value is None:
                continue
            if isinstance(value, str) and kinds <= {int, float, bool}:
                wanted = "boolean" if bool in kinds else "number"
                raise ValueError(f"'{name}' must be a JSON {wanted}")
            if type(value) in (int, float) and kinds == {bool}:
                raise ValueError(f"'{name}' must be a JSON boolean (true or false)")
            if isinstance(value, bool) and bool not in kinds and kinds <= {int, float}:
                raise ValueError(f"'{name}' must be a JSON number")
        return data


class ErrorDetail(BaseModel):
    """What went wrong."""

    model_config = ConfigDict(extra="allow")

    type: str
    message: str


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request was refused; see error.type."},
    "5XX": {"model": ErrorBody, "description": "The server or a model provider failed."},
}


class Deleted(BaseModel):
    """Acknowledges a deletion."""

    deleted: bool = True


class CitationOut(BaseModel):
    """Where a statement of the answer comes from."""

    n: int
    document_id: int
    chunk_id: int
    title: str | None
    source: str
    location: str
    page: int | None
    heading_path: list[str]
    score: float
    text: str
    quote: str
    url: str | None = None


class FileOut(BaseModel):
    """What happened to one file of a job."""

    source: str
    status: str
    document_id: int | None = None
    chunks: int = 0
    error: str | None = None


class JobOut(BaseModel):
    """A background job and its progress (0..1); ``result`` is what a finished graph build
    reports (chunks extracted, seconds, communities and the graph's counts).

    ``status``: queued, running, done, failed (the input is bad; not retried) or dead (gave up
    after ``max_attempts`` tries that hit internal errors or lost their worker). A job queued
    for another try keeps the last ``error`` and waits until ``run_after``.
    """

    id: int
    kind: str
    kb: str
    status: str
    progress: float
    error: str | None
    files_total: int
    files_done: int
    chunks_total: int
    chunks_embedded: int
    files: list[FileOut]
    result: dict[str, Any] | None = None
    attempts: int = 0
    max_attempts: int = 0
    run_after: str | None = None
    created_at: str
    updated_at: str


def job_out(job: Job) -> JobOut:
    """Wire form of a job."""
    p: dict[str, Any] = job.payload
    return JobOut(
        id=job.id,
        kind=job.kind.removeprefix("api_"),
        kb=str(p.get("kb", "")),
        status=job.status,
        progress=job.progress,
        error=job.error,
        files_total=int(p.get("files_total", 0)),
        files_done=int(p.get("files_done", 0)),
        chunks_total=int(p.get("chunks_total", 0)),
        chunks_embedded=int(p.get("chunks_embedded", 0)),
        files=[FileOut(**r) for r in p.get("results", [])],
        result=p.get("result") if isinstance(p.get("result"), dict) else None,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_after=job.run_after if job.status == "queued" else None,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )
