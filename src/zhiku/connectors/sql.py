"""SQL databases through SQLAlchemy: each row of a table or query becomes a document, or a
question-and-answer pair.

The SQLAlchemy URL is a secret (it usually holds a password). The query is the administrator's
own SQL and runs as written; a table is read with ``SELECT`` built by SQLAlchemy, which quotes
its name. No value is ever formatted into SQL text. A row's version is a hash of the columns
the source maps (and of the mapping), so a row changes exactly when its document would.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, model_validator

from zhiku.connectors.base import ConnectorContext, ConnectorSpec, SourceItem
from zhiku.connectors.common import Options, check_host, check_size, first_line, need, translated
from zhiku.core.errors import (
    InvalidInput,
    MissingDependency,
    SourceAuthFailed,
    SourceError,
    SourceUnreachable,
    ZhikuError,
)

_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521}
_AUTH_WORDS = ("password authentication failed", "authentication failed", "access denied",
               "login failed", "does not exist for user", "role \"")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SqlOptions(Options):
    """Which rows, and how their columns become a document."""

    query: str | None = Field(default=None, description="A SELECT to run as written.")
    table: str | None = Field(default=None, description="A table (or view) to read whole.")
    db_schema: str | None = Field(default=None, description="The table's schema, if not the "
                                  "default one.")
    id_column: str = Field(min_length=1, description="The column that identifies a row.")
    mode: Literal["document", "faq"] = Field(
        default="document", description="Each row a document, or a question-and-answer pair.")
    title_column: str | None = Field(default=None, description="document: the title.")
    text_columns: list[str] = Field(default_factory=list,
                                    description="document: the text, in this order.")
    question_column: str | None = Field(default=None, description="faq: the question.")
    answer_column: str | None = Field(default=None, description="faq: the answer.")
    metadata_columns: list[str] = Field(default_factory=list,
                                        description="Columns kept as document metadata.")
    format: Literal["md", "txt"] = Field(default="md", description="The rendered text's format "
                                         "(picks the parser).")
    url_template: str | None = Field(
        default=None, description="A link per row, {column} filled in from the row, e.g. "
        "https://crm.example.com/articles/{id}.")

    @model_validator(mode="after")
    def _complete(self) -> SqlOptions:
        if (self.query is None) == (self.table is None):
            raise ValueError("give either query or table")
        if self.mode == "document" and not self.text_columns:
            raise ValueError("a document source needs text_columns")
        if self.mode == "faq" and not (self.question_column and self.answer_column):
            raise ValueError("a faq source needs question_column and answer_column")
        return self

    def columns(self) -> list[str]:
        """Every column the mapping reads, the id first."""
        named = [self.id_column, self.title_column, *self.text_columns, self.question_column,
                 self.answer_column, *self.metadata_columns]
        if self.url_template:
            named += _PLACEHOLDER.findall(self.url_template)
        return list(dict.fromkeys(c for c in named if c))


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: text, numbers, booleans; dates as ISO text; else text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


class SqlConnector:
    """The rows of one table or query."""

    def __init__(self, options: SqlOptions, secrets: dict[str, str],
                 ctx: ConnectorContext) -> None:
        self.options = options
        self.ctx = ctx
        self.sa = need("sqlalchemy")
        url = self._url(secrets.get("url", ""))
        what = options.table or "query"
        self.source = f"sql {url.render_as_string(hide_password=True)} ({what})"
        try:
            self.engine = self.sa.create_engine(url, poolclass=self.sa.pool.NullPool,
                                                connect_args=self._timeouts(url))
        except ImportError as exc:
            raise MissingDependency(f"{self.source}: the database driver {exc.name!r} is not "
                                    "installed (pip install it beside Zhiku)") from None
        except self.sa.exc.ArgumentError as exc:
            raise InvalidInput(f"{self.source}: {first_line(exc)}") from None
        self._rows: dict[str, tuple[str, bytes]] = {}

    def _url(self, raw: str) -> Any:
        """The parsed URL, checked against the URL guard (a SQLite file must exist)."""
        try:
            url = self.sa.engine.make_url(raw)
        except Exception:
            raise InvalidInput("the source's url is not a valid SQLAlchemy URL") from None
        backend = url.get_backend_name()
        shown = f"sql {url.render_as_string(hide_password=True)}"
        if backend == "postgresql" and url.drivername == "postgresql" and not _has("psycopg2"):
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3 when 2 is absent
        if url.host:
            check_host(url.host, url.port or _PORTS.get(backend, 0), self.ctx, shown)
        on_disk = backend == "sqlite" and url.database not in (None, "", ":memory:")
        if on_disk and not Path(url.database).is_file():
            raise SourceError(f"{shown}: no such database file")
        return url

    def _timeouts(self, url: Any) -> dict[str, Any]:
        backend, seconds = url.get_backend_name(), self.ctx.timeout_s
        if backend == "sqlite":
            return {"timeout": seconds}
        if backend in ("postgresql", "mysql", "mariadb"):
            return {"connect_timeout": max(1, round(seconds))}
        return {}

    def _statement(self, conn: Any) -> Any:
        opts = self.options
        if opts.query is not None:
            return self.sa.text(opts.query)
        try:
            table = self.sa.Table(opts.table, self.sa.MetaData(), schema=opts.db_schema,
                                  autoload_with=conn)
        except self.sa.exc.NoSuchTableError:
            raise SourceError(f"{self.source}: no table {opts.table!r}") from None
        if opts.id_column not in table.c:
            raise SourceError(f"{self.source}: no column {opts.id_column!r}")
        return self.sa.select(table).order_by(table.c[opts.id_column])

    def _read(self) -> Iterator[Mapping[str, Any]]:
        with translated(self.source, self._connect_error):
            conn = self.engine.connect()
        with conn, translated(self.source, _query_error):
            result = conn.execute(self._statement(conn))
            keys = list(result.keys())
            missing = [c for c in self.options.columns() if c not in keys]
            if missing:
                raise SourceError(f"{self.source}: the rows have no column "
                                  f"{', '.join(map(repr, missing))}; they have "
                                  f"{', '.join(keys)}")
            yield from result.mappings()

    def items(self) -> Iterator[SourceItem]:
        """One item per row, by the id column's value; a repeated id is an error."""
        self._rows = {}
        items: list[SourceItem] = []
        for row in self._read():
            item, data = self._item(row)
            if item.id in self._rows:
                raise SourceError(f"{self.source}: the id {item.id!r} appears twice; "
                                  f"{self.options.id_column!r} must be unique")
            self._rows[item.id] = (item.version, data)
            items.append(item)
        yield from items

    def _item(self, row: Mapping[str, Any]) -> tuple[SourceItem, bytes]:
        opts = self.options
        raw_id = row[opts.id_column]
        if raw_id is None:
            raise SourceError(f"{self.source}: a row has no {opts.id_column!r}")
        row_id = _text(raw_id)
        values = {c: _plain(row[c]) for c in opts.columns()}
        mapping = opts.model_dump(exclude={"query", "table", "db_schema"})
        digest = hashlib.sha256(
            json.dumps([mapping, values], sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()
        data = self._render(row).encode()
        meta: dict[str, Any] = {c: values[c] for c in opts.metadata_columns}
        meta["row_id"] = row_id
        if opts.table:
            meta["table"] = opts.table
        if opts.title_column:
            meta["title"] = _text(row[opts.title_column])
        if opts.url_template:
            meta["url"] = _PLACEHOLDER.sub(
                lambda m: quote(_text(row[m.group(1)]), safe=""), opts.url_template)
        safe = re.sub(r"[^\w.-]+", "_", row_id).strip("._")[:100] or "row"
        name = f"{opts.table + '/' if opts.table else ''}{safe}.{opts.format}"
        return SourceItem(id=row_id, version=digest, name=name, size=len(data),
                          metadata=meta), data

    def _render(self, row: Mapping[str, Any]) -> str:
        opts = self.options
        if opts.mode == "faq":
            assert opts.question_column and opts.answer_column
            question = _text(row[opts.question_column]).strip()
            return f"Q: {question}\n\nA: {_text(row[opts.answer_column]).strip()}\n"
        body = "\n\n".join(t for t in (_text(row[c]).strip() for c in opts.text_columns) if t)
        title = " ".join(_text(row[opts.title_column]).split()) if opts.title_column else ""
        if not title:
            return body + "\n"
        return (f"# {title}\n\n" if opts.format == "md" else f"{title}\n\n") + body + "\n"

    def fetch(self, item: SourceItem) -> bytes:
        """The row's rendered text, as the last listing read it."""
        if item.id not in self._rows:
            for _ in self.items():
                pass
        if item.id not in self._rows:
            raise SourceError(f"{self.source}: row {item.id!r} is gone")
        data = self._rows[item.id][1]
        check_size(item, self.ctx, len(data))
        return data

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()
        self._rows = {}

    def _connect_error(self, what: str, exc: Exception) -> ZhikuError:
        text = first_line(getattr(exc, "orig", None) or exc)
        if any(word in text.lower() for word in _AUTH_WORDS):
            return SourceAuthFailed(f"{what}: the database refused the credentials ({text})")
        return SourceUnreachable(f"{what}: cannot connect ({text})")


def _query_error(what: str, exc: Exception) -> ZhikuError:
    text = first_line(getattr(exc, "orig", None) or exc)
    return SourceError(f"{what}: the query failed: {text}")


def _has(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def _open(options: BaseModel, secrets: dict[str, str], ctx: ConnectorContext) -> SqlConnector:
    assert isinstance(options, SqlOptions)
    return SqlConnector(options, secrets, ctx)


SPEC = ConnectorSpec(
    kind="sql",
    config_model=SqlOptions,
    open=_open,
    secret_fields=("url",),
    description="A SQL database (SQLAlchemy URL): each row of a table or query a document "
    "or a question-and-answer pair.",
)
