"""Pages of a PDF document's stored original: their sizes, and each page rendered to PNG (the
console shows them next to the chunks, which carry their page numbers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from zhiku.api.deps import Caller, Service, State
from zhiku.api.schemas import ERRORS, Id
from zhiku.api.state import ApiState
from zhiku.core.errors import UnsupportedFormat
from zhiku.ingest import pages as pdf_pages
from zhiku.service import Zhiku

router = APIRouter(tags=["documents"], responses=ERRORS)
Page = Annotated[int, Path(ge=1, le=100_000, description="A 1-based page number.")]


class PageSize(BaseModel):
    """One page's size in PDF points (1/72 inch)."""

    width: float
    height: float


class PagesOut(BaseModel):
    """How many pages the original has, and their sizes."""

    document_id: int
    count: int
    pages: list[PageSize]


def _pdf(zk: Zhiku, state: ApiState, kb: str, doc_id: int) -> bytes:
    doc = zk.document(kb, doc_id)
    if doc.format != "pdf":
        raise UnsupportedFormat(f"'{doc.source}' is {doc.format}, not a PDF: it has no pages")
    return zk.original(kb, doc.id).data


@router.get("/v1/kbs/{kb}/documents/{doc_id}/pages", response_model=PagesOut)
def list_pages(kb: str, doc_id: Id, caller: Caller, zk: Service, state: State) -> PagesOut:
    """The page count and page sizes of a PDF document."""
    caller.check_kb(kb)
    sizes = pdf_pages.page_sizes(_pdf(zk, state, kb, doc_id))
    return PagesOut(document_id=doc_id, count=len(sizes),
                    pages=[PageSize(width=w, height=h) for w, h in sizes])


@router.get(
    "/v1/kbs/{kb}/documents/{doc_id}/pages/{page}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def page_image(
    kb: str,
    doc_id: Id,
    page: Page,
    caller: Caller,
    zk: Service,
    state: State,
    width: Annotated[int, Query(ge=pdf_pages.MIN_WIDTH, le=pdf_pages.MAX_WIDTH,
                                description="Width of the image in pixels.")]
    = pdf_pages.DEFAULT_WIDTH,
) -> Response:
    """Page ``page`` of a PDF document rendered to PNG."""
    caller.check_kb(kb)
    png = pdf_pages.render_png(_pdf(zk, state, kb, doc_id), page, width,
                               zk.settings.max_image_pixels)
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400",
                             "X-Content-Type-Options": "nosniff"})
