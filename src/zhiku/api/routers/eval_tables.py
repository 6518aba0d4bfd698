"""Eval sets uploaded as a table people keep: CSV, TSV or XLSX (see
``zhiku.evals.importers.table`` for the columns, English or Chinese). Good rows are imported,
bad ones reported by row number."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from zhiku.accounts.principal import Level
from zhiku.api.deps import Caller, Service, State
from zhiku.api.routers.evals import EvalSetOut
from zhiku.api.schemas import ERRORS
from zhiku.core.errors import Forbidden, InvalidInput, PayloadTooLarge

router = APIRouter(tags=["evals"], responses=ERRORS)


class RowErrorOut(BaseModel):
    """A row left out (``row``: as the spreadsheet numbers it, the header being row 1)."""

    row: int
    error: str


class TableImportOut(EvalSetOut):
    """The set made and the rows left out."""

    skipped: list[RowErrorOut]


@router.post("/v1/evals/sets/upload", response_model=TableImportOut, status_code=201)
def upload_set(
    caller: Caller,
    zk: Service,
    state: State,
    file: Annotated[UploadFile, File(description="A .csv, .tsv or .xlsx table.")],
    name: Annotated[str | None, Form(max_length=128,
                                     description="Set name (default: the file's stem).")] = None,
    replace: Annotated[bool, Form()] = False,
) -> TableImportOut:
    """Create an eval set from an uploaded table (columns question / 问题, reference_answer /
    参考答案, expected_sources / 预期来源, …); bad rows are listed in ``skipped``."""
    caller.require(Level.WRITE)
    if caller.kbs is not None or caller.assistants is not None:
        raise Forbidden("evaluation needs a key that is not limited to some knowledge bases "
                        "or assistants")
    filename = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
    if not filename:
        raise InvalidInput("the upload has no file name (.csv, .tsv or .xlsx)")
    limit = state.settings.max_file_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"'{filename}' is over {limit:,} bytes")
    set_name = (name or "").strip() or filename.rsplit(".", 1)[0]
    made, found = zk.import_eval_table(set_name, data, filename, replace=replace,
                                       origin=f"upload:{filename}")
    return TableImportOut(**asdict(made),
                          skipped=[RowErrorOut(row=e.row, error=e.error) for e in found.errors])
