"""Knowledge bases: create, list, read (with counts), change settings, delete."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service
from zhiku.api.schemas import ERRORS, Deleted, Request
from zhiku.core.names import Name
from zhiku.kb_language import chinese_retrieval, retrieval_note
from zhiku.store.records import KnowledgeBase

router = APIRouter(tags=["knowledge bases"], responses=ERRORS)


class KbSettings(Request):
    """Per-knowledge-base settings (unset: the server's defaults)."""

    chunk_tokens: int | None = Field(default=None, ge=16, le=4096)
    chunk_overlap: int | None = Field(default=None, ge=0, le=1024)
    parent_child: bool | None = None
    graph: bool | None = None
    reranker: str | None = Field(default=None, max_length=200)
    rerank_top_n: int | None = Field(default=None, ge=1, le=200)
    language: Literal["zh", "en", "auto"] | None = Field(
        default=None,
        description="The documents' language: without an embedder, zh and auto get the "
        "multilingual embedder when it is installed.",
    )

    def given(self) -> dict[str, Any]:
        """Only the settings that were set."""
        return self.model_dump(exclude_none=True)


class KbIn(Request):
    """A new knowledge base."""

    name: Name = Field(min_length=1, max_length=128, pattern=r"^[^/]+$")
    embedder: str | None = Field(default=None, max_length=200)
    settings: KbSettings = Field(default_factory=KbSettings)


class KbPatch(Request):
    """Changed settings (merged into the current ones)."""

    settings: KbSettings


class KbOut(BaseModel):
    """A knowledge base with its counts."""

    id: int
    name: str
    embedder: str
    settings: dict[str, Any]
    created_at: str
    stats: dict[str, int]
    chinese_retrieval: Literal["semantic", "keyword"] = Field(
        description="How Chinese text is found: by meaning, or by keywords only (the "
        "embedder does not read Chinese)."
    )
    retrieval_note: str | None = Field(
        default=None, description="A plain sentence when Chinese is found by keywords only."
    )


def kb_out(zk: Service, kb: KnowledgeBase) -> KbOut:
    """Wire form with counts."""
    return KbOut(
        id=kb.id,
        name=kb.name,
        embedder=kb.embedder,
        settings=kb.settings,
        created_at=kb.created_at,
        stats=zk.store.kb_stats(kb.id),
        chinese_retrieval=chinese_retrieval(kb.embedder),
        retrieval_note=retrieval_note(kb.embedder),
    )


@router.get("/v1/kbs", response_model=list[KbOut])
def list_kbs(caller: Caller, zk: Service) -> list[KbOut]:
    """The knowledge bases the caller may see."""
    return [kb_out(zk, kb) for kb in zk.list_kbs() if caller.may_kb(kb.name)]


@router.post("/v1/kbs", response_model=KbOut, status_code=201)
def create_kb(body: KbIn, caller: Caller, zk: Service) -> KbOut:
    """Create a knowledge base (editors; a key limited to named bases cannot add others)."""
    caller.check_kb(body.name, Level.WRITE)
    kb = zk.create_kb(body.name, embedder=body.embedder, **body.settings.given())
    return kb_out(zk, kb)


@router.get("/v1/kbs/{kb}", response_model=KbOut)
def get_kb(kb: str, caller: Caller, zk: Service) -> KbOut:
    """One knowledge base."""
    caller.check_kb(kb)
    return kb_out(zk, zk.kb(kb))


@router.patch("/v1/kbs/{kb}", response_model=KbOut)
def update_kb(kb: str, body: KbPatch, caller: Caller, zk: Service) -> KbOut:
    """Change chunking and other settings; they apply to documents ingested (or re-indexed)
    from now on. A setting sent as null goes back to the server's default."""
    caller.check_kb(kb, Level.WRITE)
    changes = body.settings.model_dump(exclude_unset=True)
    return kb_out(zk, zk.update_kb_settings(kb, **changes))


@router.delete("/v1/kbs/{kb}", response_model=Deleted)
def delete_kb(kb: str, caller: Caller, zk: Service) -> Deleted:
    """Delete a knowledge base with everything in it."""
    caller.check_kb(kb, Level.WRITE)
    zk.delete_kb(kb)
    return Deleted()
