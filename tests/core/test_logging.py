"""The logging configuration: levels, JSON lines, and request ids on the records of a request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from zhiku.api.request_id import RequestId
from zhiku.core.errors import InvalidInput
from zhiku.core.logging import JsonFormatter, RequestIdFilter, logging_config


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON lines of the ``zhiku`` loggers, through the filter the configuration installs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("zhiku.test_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def _app() -> FastAPI:
    app = FastAPI()
    log = logging.getLogger("zhiku.test_logging")

    @app.get("/sync")
    def sync_route() -> dict[str, str]:  # runs in a worker thread
        log.info("sync work")
        return {}

    @app.get("/async")
    async def async_route() -> dict[str, str]:
        log.info("async work")
        return {}

    app.add_middleware(RequestId)
    return app


def test_request_ids_round_trip_and_mark_each_log_line(captured: io.StringIO) -> None:
    with TestClient(_app()) as client:
        given = client.get("/sync", headers={"X-Request-ID": "trace-42.a:b"})
        made = client.get("/async")
        other = client.get("/async")
        for bad in ("x" * 200, "two words", "üñï"):
            refused = client.get("/sync", headers={"X-Request-ID": bad.encode()})
            assert re.fullmatch("[0-9a-f]{32}", refused.headers["x-request-id"]), bad
    assert given.headers["x-request-id"] == "trace-42.a:b"
    assert re.fullmatch("[0-9a-f]{32}", made.headers["x-request-id"])
    assert made.headers["x-request-id"] != other.headers["x-request-id"]
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [(r["message"], r["request_id"]) for r in records[:3]] == [
        ("sync work", "trace-42.a:b"),
        ("async work", made.headers["x-request-id"]),
        ("async work", other.headers["x-request-id"]),
    ]
    outside = logging.LogRecord("zhiku.x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(outside) and outside.request_id == "-"  # type: ignore[attr-defined]


def test_json_lines_carry_level_logger_time_and_traceback() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        import sys

        record = logging.LogRecord("zhiku.jobs.runner", logging.ERROR, __file__, 1,
                                   "job %d: internal error", (7,), sys.exc_info())
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "job 7: internal error" and data["level"] == "ERROR"
    assert data["logger"] == "zhiku.jobs.runner" and data["request_id"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", data["time"])
    assert "RuntimeError: boom" in data["exc"]


def test_levels() -> None:
    config = logging_config("DEBUG")
    assert config["loggers"]["zhiku"]["level"] == "DEBUG"
    assert config["root"]["level"] == "WARNING"  # other libraries stay quiet
    assert logging_config("error")["root"]["level"] == "ERROR"
    assert "()" in logging_config("info", json=True)["formatters"]["zhiku"]
    with pytest.raises(InvalidInput, match="log level must be one of"):
        logging_config("loud")


def test_share_link_tokens_are_masked_in_logged_paths() -> None:
    from zhiku.core.logging import ShareTokenFilter

    token = "zkl_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "POST",
                                                          f"/s/{token}/chat", "1.1", 200), None)
    assert ShareTokenFilter().filter(record)
    line = record.getMessage()
    assert token not in line and "/s/zkl_…abcd/chat" in line
    other = logging.LogRecord("zhiku.x", logging.INFO, __file__, 1, f"GET /s/{token}", None, None)
    ShareTokenFilter().filter(other)
    assert other.getMessage() == "GET /s/zkl_…abcd"
    assert "share_tokens" in logging_config()["handlers"]["stderr"]["filters"]
