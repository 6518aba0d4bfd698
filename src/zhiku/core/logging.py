"""One logging configuration for the long-running processes (``zhiku serve``, ``zhiku worker``).

Records go to stderr as text (time, level, logger, process and thread, request id, message) or,
with ``json=True``, as one JSON object a line. ``zhiku.*`` and ``uvicorn.*`` log at the chosen
level; other libraries only from WARNING up (httpx and friends are chatty at INFO). The id of
the HTTP request being served, if any, is taken from a context variable and put on each record
by a filter, so every line a request causes can be found by its id. Share-link tokens in logged
paths (``/s/zkl_…``, a bearer secret in the URL) are cut to their last four characters.
"""

from __future__ import annotations

import json as jsonlib
import logging
import logging.config
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from zhiku.core.errors import InvalidInput

LEVELS = ("debug", "info", "warning", "error", "critical")
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s %(request_id)s] %(message)s"
)

request_id: ContextVar[str | None] = ContextVar("zhiku_request_id", default=None)

# A caller's id is kept only if it is short and plain, so it cannot forge log lines.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")


def accept_request_id(given: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is well-formed, else a new random id."""
    if given and _WELL_FORMED.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Put the current request's id (``-`` outside a request) on each record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or "-"
        return True


_SHARE_TOKEN = re.compile(r"/s/zkl_[A-Za-z0-9_-]+")


def mask_share_tokens(text: str) -> str:
    """``text`` with each share-link token in a path cut to its last four characters."""
    return _SHARE_TOKEN.sub(lambda m: "/s/zkl_…" + m[0][-4:], text)


class ShareTokenFilter(logging.Filter):
    """Mask share-link tokens in a record's message and arguments (uvicorn's access lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/s/zkl_" in record.msg:
            record.msg = mask_share_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_share_tokens(a) if isinstance(a, str) and "/s/zkl_" in a
                                else a for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id, process, thread,
    and the traceback as ``exc`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if rid in (None, "-") else rid,
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        return jsonlib.dumps(out)


def logging_config(level: str = "info", json: bool = False) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dictionary (also uvicorn's ``log_config``)."""
    name = level.lower()
    if name not in LEVELS:
        raise InvalidInput(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    chosen = name.upper()
    others = max(logging.WARNING, logging.getLevelNamesMapping()[chosen])
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if json else {"format": TEXT_FORMAT}
    )
    own = {"level": chosen, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"},
                    "share_tokens": {"()": f"{__name__}.ShareTokenFilter"}},
        "formatters": {"zhiku": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "zhiku",
                "filters": ["request_id", "share_tokens"],
            }
        },
        "root": {"level": logging.getLevelName(others), "handlers": ["stderr"]},
        "loggers": {
            "zhiku": dict(own),
            "uvicorn": dict(own),
            "uvicorn.error": dict(own),
            "uvicorn.access": dict(own),
        },
    }


def configure_logging(level: str = "info", json: bool = False) -> None:
    """Configure this process's logging (see the module docstring)."""
    logging.config.dictConfig(logging_config(level, json))
