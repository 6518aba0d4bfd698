"""The columns of one copied table, read from both schemas, with the kind of each value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zhiku.core.errors import Conflict
from zhiku.store.transfer.plan import TableSpec

# PostgreSQL type (pg_type.typname) -> how a value is converted and compared.
KINDS: dict[str, str] = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "float4": "float",
    "float8": "float",
    "numeric": "float",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "json": "json",
    "jsonb": "json",
    "bytea": "bytes",
    "vector": "vector",
    "tsvector": "tsv",
}

# Target columns computed from the source rather than copied: chunks' full text.
DERIVED: dict[str, tuple[str, ...]] = {"chunks": ("tsv", "term_count")}


@dataclass(frozen=True, slots=True)
class Column:
    """A copied column and its kind (int, float, text, json, bytes, vector, tsv)."""

    name: str
    kind: str
    pg_type: str


@dataclass(frozen=True, slots=True)
class TablePlan:
    """How one table is copied: source columns, derived target columns, key, identity."""

    spec: TableSpec
    columns: tuple[Column, ...]
    derived: tuple[Column, ...]
    key: tuple[str, ...]
    identity: str | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def target_columns(self) -> tuple[Column, ...]:
        """Every column written on the target: the copied ones, then the derived ones."""
        return self.columns + self.derived

    @property
    def binary(self) -> bool:
        """Whether rows go through binary COPY (vectors do)."""
        return any(c.kind == "vector" for c in self.columns)


def plan_table(
    spec: TableSpec,
    source_columns: Sequence[str],
    key: Sequence[str],
    target_types: Mapping[str, str],
    identity: str | None,
) -> TablePlan:
    """Match a table's SQLite columns with its PostgreSQL columns; ``Conflict`` on any drift."""
    if not target_types:
        raise Conflict(f"the target has no table {spec.name}: is its schema up to date?")
    missing = [c for c in source_columns if c not in target_types]
    if missing:
        raise Conflict(f"{spec.name}: the target lacks the column(s) {missing}")
    if not key:
        raise Conflict(f"{spec.name}: no primary key to copy it by")

    def column(name: str) -> Column:
        pg_type = target_types[name]
        kind = KINDS.get(pg_type)
        if kind is None:
            raise Conflict(f"{spec.name}.{name}: cannot copy a column of type {pg_type}")
        return Column(name, kind, pg_type)

    derived = tuple(column(c) for c in DERIVED.get(spec.name, ()))
    return TablePlan(
        spec=spec,
        columns=tuple(column(c) for c in source_columns),
        derived=derived,
        key=tuple(key),
        identity=identity,
    )
