"""Chunks: list a document's, view one, edit its text, disable or enable it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Id, Request
from zhiku.core.jsonbounds import StoredJson
from zhiku.store.records import Chunk

router = APIRouter(tags=["chunks"], responses=ERRORS)


class ChunkOut(BaseModel):
    """A stored chunk."""

    id: int
    document_id: int
    ord: int
    text: str
    heading_path: list[str]
    page: int | None
    token_count: int
    parent_id: int | None
    searchable: bool
    enabled: bool
    metadata: StoredJson


class ChunkPatch(Request):
    """New text (re-indexed at once, re-embedded in the background) and/or enablement."""

    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    enabled: bool | None = None


def chunk_out(chunk: Chunk) -> ChunkOut:
    """Wire form of a chunk."""
    return ChunkOut(
        id=chunk.id,
        document_id=chunk.document_id,
        ord=chunk.ord,
        text=chunk.text,
        heading_path=chunk.heading_path,
        page=chunk.page,
        token_count=chunk.token_count,
        parent_id=chunk.parent_id,
        searchable=chunk.searchable,
        enabled=chunk.enabled,
        metadata=chunk.metadata,
    )


@router.get("/v1/kbs/{kb}/documents/{doc_id}/chunks", response_model=list[ChunkOut])
def list_chunks(kb: str, doc_id: Id, caller: Caller, zk: Service) -> list[ChunkOut]:
    """A document's chunks, in order."""
    caller.check_kb(kb)
    return [chunk_out(c) for c in zk.chunks(kb, doc_id)]


@router.get("/v1/kbs/{kb}/chunks/{chunk_id}", response_model=ChunkOut)
def get_chunk(kb: str, chunk_id: Id, caller: Caller, zk: Service) -> ChunkOut:
    """One chunk."""
    caller.check_kb(kb)
    return chunk_out(zk.chunk(kb, chunk_id))


@router.patch("/v1/kbs/{kb}/chunks/{chunk_id}", response_model=ChunkOut)
def update_chunk(kb: str, chunk_id: Id, body: ChunkPatch, caller: Caller, zk: Service) -> ChunkOut:
    """Edit a chunk's text and/or disable it (disabled chunks never appear in search)."""
    caller.check_kb(kb, Level.WRITE)
    chunk = zk.chunk(kb, chunk_id)
    if body.text is not None and body.text != chunk.text:
        chunk = zk.edit_chunk(kb, chunk_id, body.text)
        if chunk.searchable:
            zk.jobs.submit_embed(kb)
    if body.enabled is not None:
        chunk = zk.set_chunk_enabled(kb, chunk_id, body.enabled)
    return chunk_out(chunk)
