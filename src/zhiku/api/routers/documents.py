"""Documents: upload (multipart, one or many files), ingest from a URL, status, metadata and
tags, re-index, delete, download of the original."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, HttpUrl, TypeAdapter, ValidationError

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service, State
from zhiku.api.media_types import served_type
from zhiku.api.schemas import ERRORS, MAX_ID, Deleted, Id, JobOut, Request, job_out
from zhiku.core.errors import InvalidInput, PayloadTooLarge
from zhiku.core.jsonbounds import BoundedJson, StoredJson
from zhiku.jobs.submit import Upload
from zhiku.service import Zhiku
from zhiku.store.doc_query import DocumentQuery, DocumentSort
from zhiku.store.records import Document

router = APIRouter(tags=["documents"], responses=ERRORS)
MAX_FILES = 1000


class DocumentOut(BaseModel):
    """A document and its processing state (parsed → ready, or error)."""

    id: int
    kb: str
    source: str
    title: str | None
    content_hash: str
    format: str
    size_bytes: int
    status: str
    error: str | None
    chunk_count: int
    metadata: StoredJson
    tags: list[str]
    created_at: str
    updated_at: str
    groups: list[int] | None = Field(
        default=None, description="The groups that may read it; null: everyone in the "
        "workspace (an empty list: administrators only).")


class UrlIn(Request):
    """A URL to fetch and ingest (public addresses only, unless allow-listed)."""

    # (the pattern documents what HttpUrl takes: http or https with a host)
    url: HttpUrl = Field(json_schema_extra={"pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+"})
    metadata: BoundedJson = Field(default_factory=dict)


class DocumentPatch(Request):
    """New metadata (replaces it) and/or tags."""

    metadata: BoundedJson | None = None
    tags: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=200)


def doc_out(kb: str, doc: Document, groups: list[int] | None = None) -> DocumentOut:
    """Wire form of a document; ``groups``: its restriction (read only when restricted)."""
    tags = doc.metadata.get("tags")
    return DocumentOut(
        id=doc.id,
        kb=kb,
        source=doc.source,
        title=doc.title,
        content_hash=doc.content_hash,
        format=doc.format,
        size_bytes=doc.size_bytes,
        status=doc.status,
        error=doc.error,
        chunk_count=doc.chunk_count,
        metadata=doc.metadata,
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        created_at=doc.created_at,
        updated_at=doc.updated_at,
        groups=(groups or []) if doc.restricted else None,
    )


def _document(zk: Zhiku, kb: str, doc_id: Id) -> Document:
    return zk.document(kb, doc_id)


_FORM_METADATA: TypeAdapter[dict[str, Any]] = TypeAdapter(BoundedJson)


def _metadata(raw: str | None, tags: str | None) -> dict[str, Any]:
    meta: Any = {}
    if raw:
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput("metadata must be a JSON object") from exc
        if not isinstance(meta, dict):
            raise InvalidInput("metadata must be a JSON object")
        try:
            _FORM_METADATA.validate_python(meta)
        except ValidationError as exc:
            problems = [{**e, "loc": ("body", "metadata")} for e in exc.errors()]
            raise RequestValidationError(problems) from None
    if tags:
        meta["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
    return meta


def _filename(name: str | None, n: int) -> str:
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    if not base or base in (".", ".."):
        return f"upload-{n}.bin"
    return base[:255]


@router.get("/v1/kbs/{kb}/documents", response_model=list[DocumentOut])
def list_documents(
    kb: str,
    caller: Caller,
    zk: Service,
    response: Response,
    status: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200,
                                   description="Text the source or title contains.")] = None,
    sort: DocumentSort = "name",
    order: Literal["asc", "desc"] = "asc",
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[DocumentOut]:
    """Documents of a knowledge base: optionally one ``status`` and ``tag``, those whose
    source or title contains ``q``, ordered by ``sort`` (name = source) and ``order``, and a
    window of ``limit`` rows after ``offset``. The body is a list (every matching document
    when no ``limit`` is given); the ``X-Total-Count`` header counts all that match."""
    caller.check_kb(kb)
    query = DocumentQuery(status=status, tag=tag or None, text=q or None, sort=sort,
                          descending=order == "desc", limit=limit, offset=offset)
    page = zk.kbdocs.page(kb, query)
    response.headers["X-Total-Count"] = str(page.total)
    groups = zk.permissions.document_groups([d.id for d in page.documents if d.restricted])
    return [doc_out(kb, d, groups.get(d.id)) for d in page.documents]


@router.post("/v1/kbs/{kb}/documents", response_model=JobOut, status_code=202)
def upload(
    kb: str,
    caller: Caller,
    zk: Service,
    state: State,
    files: Annotated[list[UploadFile], File(min_length=1, description="One or many files.")],
    metadata: Annotated[str | None, Form(description="JSON object for every file.")] = None,
    tags: Annotated[str | None, Form(description="Comma-separated tags.")] = None,
    groups: Annotated[str | None, Form(
        description="Comma-separated groups (names or ids) that may read the files "
        "(admin); unset: everyone in the workspace.")] = None,
) -> JobOut:
    """Upload files; they are stored, then ingested in the background (poll the job). A file
    of a type no parser reads refuses the request (415, naming the accepted formats, those
    ``/v1/formats`` lists) before anything is stored."""
    caller.check_kb(kb, Level.WRITE)
    zk.kb(kb)
    restrict: list[int] | None = None
    if groups is not None:
        caller.check_kb(kb, Level.ADMIN)
        refs = [g.strip() for g in groups.split(",") if g.strip()]
        restrict = zk.permissions.resolve([int(r) if r.isdigit() else r for r in refs])
    if not files:
        raise InvalidInput("send at least one file")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per request")
    meta = _metadata(metadata, tags)
    limit = state.settings.max_file_bytes
    uploads: list[Upload] = []
    for n, up in enumerate(files, start=1):
        zk.registry.for_name(_filename(up.filename, n))
    for n, up in enumerate(files, start=1):
        data = up.file.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"'{_filename(up.filename, n)}' is over {limit:,} bytes")
        uploads.append(
            Upload(_filename(up.filename, n), data, up.content_type or "application/octet-stream")
        )
    return job_out(zk.jobs.submit_uploads(kb, uploads, meta, restrict))


@router.post("/v1/kbs/{kb}/documents/url", response_model=JobOut, status_code=202)
def ingest_url(kb: str, body: UrlIn, caller: Caller, zk: Service) -> JobOut:
    """Fetch a URL in the background and ingest it (internal addresses are refused)."""
    caller.check_kb(kb, Level.WRITE)
    return job_out(zk.jobs.submit_url(kb, str(body.url), body.metadata))


@router.get("/v1/kbs/{kb}/documents/{doc_id}", response_model=DocumentOut)
def get_document(kb: str, doc_id: Id, caller: Caller, zk: Service) -> DocumentOut:
    """One document: status, error, counts, metadata."""
    caller.check_kb(kb)
    doc = _document(zk, kb, doc_id)
    return doc_out(kb, doc, zk.permissions.groups_of(doc))


@router.patch("/v1/kbs/{kb}/documents/{doc_id}", response_model=DocumentOut)
def update_document(
    kb: str, doc_id: Id, body: DocumentPatch, caller: Caller, zk: Service, state: State
) -> DocumentOut:
    """Replace metadata and/or tags (filters see them at once)."""
    caller.check_kb(kb, Level.WRITE)
    doc = zk.set_document_metadata(kb, _document(zk, kb, doc_id).id, body.metadata,
                                   tags=body.tags)
    return doc_out(kb, doc, zk.permissions.groups_of(doc))


@router.delete("/v1/kbs/{kb}/documents/{doc_id}", response_model=Deleted)
def delete_document(kb: str, doc_id: Id, caller: Caller, zk: Service) -> Deleted:
    """Delete a document with its chunks, vectors and full-text rows."""
    caller.check_kb(kb, Level.WRITE)
    zk.delete_document(kb, _document(zk, kb, doc_id).id)
    return Deleted()


@router.post("/v1/kbs/{kb}/documents/{doc_id}/reindex", response_model=JobOut, status_code=202)
def reindex(kb: str, doc_id: Id, caller: Caller, zk: Service, state: State) -> JobOut:
    """Parse and chunk again from the stored original (with the current settings).

    The re-indexed document gets a new id; the job's ``files`` name it.
    """
    caller.check_kb(kb, Level.WRITE)
    return job_out(zk.jobs.submit_reindex(kb, _document(zk, kb, doc_id).id))


@router.get(
    "/v1/kbs/{kb}/documents/{doc_id}/original",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(kb: str, doc_id: Id, caller: Caller, zk: Service) -> Response:
    """The original file as it was uploaded or fetched, always as an attachment, typed by
    the format it was parsed as (checked against its leading bytes), not by the upload's claim."""
    caller.check_kb(kb)
    doc = _document(zk, kb, doc_id)
    original = zk.original(kb, doc.id)
    name = PurePath(doc.source).name or "document"
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        # opened anyway (a browser, a proxy), the file runs no script and loads nothing
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(
        original.data, media_type=served_type(doc.format, original.data), headers=headers
    )
