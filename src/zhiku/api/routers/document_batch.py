"""Actions over many documents of a knowledge base at once: delete, re-index, tag, and
re-index every document. Each document is handled on its own and reported on its own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service
from zhiku.api.mirror import Mirror
from zhiku.api.schemas import ERRORS, MAX_ID, JobOut, Request, job_out
from zhiku.kbdocs import MAX_BATCH, BatchOutcome, ItemResult

router = APIRouter(tags=["documents"], responses=ERRORS)

Tag = Annotated[str, Field(min_length=1, max_length=200)]


class BatchIn(Request):
    """An action and the documents it applies to; ``tag`` adds ``tags`` and takes away
    ``remove_tags``."""

    action: Literal["delete", "reindex", "tag"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=MAX_BATCH)
    tags: list[Tag] = Field(default_factory=list, max_length=200)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=200)


class ItemOut(Mirror, source=ItemResult):
    """One document's result: ``ok``, or the error's ``error_type`` and message."""

    error: str | None = None
    error_type: str | None = None


class BatchOut(BaseModel):
    """Per-document results in the order asked; ``job``: the re-index job, when one was
    queued (follow it at /v1/jobs/{id})."""

    done: int
    failed: int
    results: list[ItemOut]
    job: JobOut | None = None


def batch_out(outcome: BatchOutcome) -> BatchOut:
    """Wire form of a batch's outcome."""
    done = sum(1 for r in outcome.results if r.ok)
    return BatchOut(
        done=done,
        failed=len(outcome.results) - done,
        results=[ItemOut.model_validate(r, from_attributes=True)
                 for r in outcome.results],
        job=job_out(outcome.job) if outcome.job is not None else None,
    )


@router.post("/v1/kbs/{kb}/documents/batch", response_model=BatchOut)
def batch(kb: str, body: BatchIn, caller: Caller, zk: Service) -> BatchOut:
    """Delete, re-index or tag many documents: each in its own transaction, with its own
    result (a missing document fails alone). Re-indexing queues one job for all of them."""
    caller.check_kb(kb, Level.WRITE)
    return batch_out(zk.kbdocs.batch(kb, body.action, body.ids, add_tags=body.tags,
                                     remove_tags=body.remove_tags))


@router.post("/v1/kbs/{kb}/reindex", response_model=BatchOut, status_code=202)
def reindex_all(kb: str, caller: Caller, zk: Service) -> BatchOut:
    """Parse, chunk and embed every document again from its stored original, with the
    knowledge base's current settings, as one job; documents without a stored original
    (ingested from a path) are reported as failed."""
    caller.check_kb(kb, Level.WRITE)
    return batch_out(zk.kbdocs.reindex_all(kb))
