"""What a knowledge base can be set to: the embedders installed on this server (in plain
words, with whether each reads Chinese) and the file formats it parses; switching a knowledge
base's embedder (its documents are embedded again in the background)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, JobOut, Request, job_out
from zhiku.models.embedders.catalog import catalog

router = APIRouter(tags=["knowledge bases"], responses=ERRORS)


class EmbedderOut(BaseModel):
    """An embedder: ``chinese`` says whether it finds Chinese text by meaning (otherwise
    Chinese is found by keywords only); ``install``: how to add a missing one."""

    name: str
    label: str
    chinese: bool
    installed: bool
    install: str | None
    default: bool


class FormatsOut(BaseModel):
    """The file extensions uploads are parsed from, and the largest file accepted."""

    extensions: list[str]
    max_file_bytes: int


class EmbedderIn(Request):
    """The embedder a knowledge base switches to."""

    embedder: str = Field(min_length=1, max_length=200)


class SwitchOut(BaseModel):
    """The knowledge base's embedder, and the job embedding its documents again (None when
    there was nothing to embed)."""

    embedder: str
    job: JobOut | None


@router.get("/v1/embedders", response_model=list[EmbedderOut])
def embedders(caller: Caller, state: State) -> list[EmbedderOut]:
    """The embedders this server knows; ``default``: what a knowledge base gets without a
    choice and without a language hint."""
    default = state.settings.embedder
    return [EmbedderOut(name=e.name, label=e.label, chinese=e.chinese, installed=e.installed,
                        install=e.install, default=e.name == default)
            for e in catalog(state.settings)]


@router.get("/v1/formats", response_model=FormatsOut)
def formats(caller: Caller, zk: Service, state: State) -> FormatsOut:
    """What uploads may be: file extensions some parser reads, and the size limit."""
    return FormatsOut(extensions=zk.registry.extensions,
                      max_file_bytes=state.settings.max_file_bytes)


@router.post("/v1/kbs/{kb}/embedder", response_model=SwitchOut, status_code=202)
def switch_embedder(kb: str, body: EmbedderIn, caller: Caller, zk: Service) -> SwitchOut:
    """Switch the embedder: the old vectors are dropped and every document is embedded again
    by a background job (follow it at /v1/jobs/{id}); meanwhile keyword search still finds
    the documents."""
    caller.check_kb(kb, Level.WRITE)
    job = zk.kbdocs.switch_embedder(kb, body.embedder)
    return SwitchOut(embedder=zk.kb(kb).embedder, job=job_out(job) if job else None)
