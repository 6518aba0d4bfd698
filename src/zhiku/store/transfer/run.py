"""``zhiku migrate``: copy an embedded SQLite database into PostgreSQL, verifiably, re-runnably.

Steps: plan every table from both schemas; stage the source's keys of tables the target already
has rows in and count target rows the source lacks (refused unless ``prune``: they would be a
different database, or rows deleted since the last run); copy each table in key order, batch by
batch (a table empty at the start gets plain COPY, any other an upsert that leaves unchanged rows
alone); restore the graph aggregates the target's triggers changed meanwhile; move identity
sequences past the copied ids; merge the keyword postings the copy wrote; build the HNSW indexes
once over all vectors; checksum both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from zhiku.core.errors import Conflict, InvalidInput
from zhiku.core.settings import Settings
from zhiku.store.db import open_database
from zhiku.store.postgres.db import PgDatabase
from zhiku.store.transfer.columns import TablePlan, plan_table
from zhiku.store.transfer.plan import TABLES, unplanned
from zhiku.store.transfer.rows import Checksum, digest_kinds, source_digest_row, to_target
from zhiku.store.transfer.source import SqliteSource
from zhiku.store.transfer.target import PgTarget


class Progress(Protocol):
    """Where the migration reports what it is doing (the CLI draws bars)."""

    def start(self, step: str, table: str, total: int | None) -> None: ...
    def advance(self, rows: int) -> None: ...
    def finish(self) -> None: ...


class _Silent:
    def start(self, step: str, table: str, total: int | None) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class MigrateOptions:
    """``batch_rows``: rows per transaction; ``prune``: delete target rows the source lacks;
    ``dry_run``: report counts only; ``verify``: checksum both sides at the end."""

    batch_rows: int = 5000
    prune: bool = False
    dry_run: bool = False
    verify: bool = True
    maintenance_work_mem: str = "1GB"


@dataclass(slots=True)
class TableReport:
    """What happened to one table."""

    name: str
    source_rows: int = 0
    target_rows: int = 0
    inserted: int = 0
    updated: int = 0
    pruned: int = 0
    extra: int = 0  # target rows the source lacks (before pruning)
    new: int | None = None  # dry run: source rows the target lacks
    source_sha256: str | None = None
    target_sha256: str | None = None

    @property
    def ok(self) -> bool:
        """Counts (and checksums, when computed) agree."""
        same_sha = self.source_sha256 is None or self.source_sha256 == self.target_sha256
        return self.source_rows == self.target_rows and same_sha


@dataclass(slots=True)
class MigrationReport:
    """Per-table results, in copy order."""

    tables: list[TableReport] = field(default_factory=list)
    hnsw_indexes: list[tuple[str, int]] = field(default_factory=list)
    dry_run: bool = False
    verified: bool = False

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)


def migrate(
    source_path: Path,
    target_url: str,
    options: MigrateOptions | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy the SQLite database at ``source_path`` into the PostgreSQL database at
    ``target_url`` (migrated to the latest schema first). ``Conflict`` when the target holds
    rows the source lacks and ``prune`` is off, or when the schemas disagree."""
    opts = options or MigrateOptions()
    shown = progress or _Silent()
    settings = Settings(database_url=target_url)
    if not settings.is_postgres:
        raise InvalidInput("--to must be a postgresql:// URL")
    source = SqliteSource(source_path)
    try:
        db = open_database(settings)
        if not isinstance(db, PgDatabase):
            raise InvalidInput("--to must be a postgresql:// URL")
        try:
            with PgTarget.open(db) as target:
                return _run(source, target, opts, shown)
        finally:
            db.close()
    finally:
        source.close()


def _run(
    source: SqliteSource, target: PgTarget, opts: MigrateOptions, progress: Progress
) -> MigrationReport:
    plans = _plans(source, target)
    reports = {p.name: TableReport(p.name, source_rows=source.count(p.name)) for p in plans}
    report = MigrationReport(tables=list(reports.values()), dry_run=opts.dry_run)
    fresh = _check_existing(source, target, plans, reports, opts, progress)
    if not opts.dry_run:
        _copy_all(source, target, plans, reports, fresh, opts, progress)
        report.hnsw_indexes = _finish(source, target, plans, opts, progress)
    for p in plans:
        reports[p.name].target_rows = target.count(p.name)
    if opts.verify and not opts.dry_run:
        for p in plans:
            _verify(source, target, p, reports[p.name], opts, progress)
        report.verified = True
    return report


def _plans(source: SqliteSource, target: PgTarget) -> list[TablePlan]:
    """Every copied table, matched on both schemas."""
    lost = unplanned(source.tables())
    if lost:
        raise Conflict(f"tables neither copied nor skipped by zhiku migrate: {lost}")
    return [
        plan_table(
            spec,
            source.columns(spec.name),
            source.primary_key(spec.name),
            target.column_types(spec.name),
            target.identity(spec.name),
        )
        for spec in TABLES
    ]


def _copy_all(
    source: SqliteSource,
    target: PgTarget,
    plans: list[TablePlan],
    reports: dict[str, TableReport],
    fresh: set[str],
    opts: MigrateOptions,
    progress: Progress,
) -> None:
    """Prune (children first), copy (parents first), then restore the aggregates that the
    target's triggers raised while the children were copied."""
    if opts.prune:
        for p in reversed(plans):
            if reports[p.name].extra:
                reports[p.name].pruned = target.prune(p)
    for p in plans:
        _copy_table(source, target, p, reports[p.name], p.name in fresh, opts, progress)
    for p in plans:
        if p.spec.aggregates:
            _copy_table(source, target, p, None, False, opts, progress, only=p.spec.aggregates)


def _finish(
    source: SqliteSource,
    target: PgTarget,
    plans: list[TablePlan],
    opts: MigrateOptions,
    progress: Progress,
) -> list[tuple[str, int]]:
    """Identity sequences past every copied id, keyword postings merged, planner statistics,
    HNSW indexes."""
    for p in plans:
        target.reset_identity(p, source.sequence(p.name))
    progress.start("postings", "keyword postings", None)
    target.merge_postings()
    progress.finish()
    target.analyze(p.name for p in plans)
    built = []
    for model, dim in target.vector_models():
        progress.start("index", f"HNSW {model} ({dim}-d)", None)
        target.build_hnsw(model, dim, opts.maintenance_work_mem)
        progress.finish()
        built.append((model, dim))
    return built


def _check_existing(
    source: SqliteSource,
    target: PgTarget,
    plans: list[TablePlan],
    reports: dict[str, TableReport],
    opts: MigrateOptions,
    progress: Progress,
) -> set[str]:
    """Stage the source keys of every table the target already has rows in; count the target's
    extra rows (and, for a dry run, the new ones). Returns the tables empty on the target."""
    fresh: set[str] = set()
    for p in plans:
        r = reports[p.name]
        if target.is_empty(p.name):
            fresh.add(p.name)
            r.new = r.source_rows
            continue
        progress.start("compare", p.name, r.source_rows)
        target.stage_keys(p, _counted(source.keys(p.name, p.key, opts.batch_rows), progress))
        progress.finish()
        r.extra = target.extra_rows(p)
        if opts.dry_run:
            r.new = target.new_rows(p)
    extra = {r.name: r.extra for r in reports.values() if r.extra}
    if extra and not opts.prune and not opts.dry_run:
        raise Conflict(
            f"the target holds rows the source does not have: {extra} (another database, or "
            "rows deleted from the source since the last run); re-run with --prune to delete "
            "them, or migrate into an empty database"
        )
    return fresh


def _counted(
    batches: Iterable[list[tuple[object, ...]]], progress: Progress
) -> Iterable[list[tuple[object, ...]]]:
    for batch in batches:
        yield batch
        progress.advance(len(batch))


def _copy_table(
    source: SqliteSource,
    target: PgTarget,
    plan: TablePlan,
    report: TableReport | None,
    fresh: bool,
    opts: MigrateOptions,
    progress: Progress,
    only: tuple[str, ...] = (),
) -> None:
    """Copy one table batch by batch (``only``: update just these columns of existing rows)."""
    batch = plan.spec.batch_rows or opts.batch_rows
    if plan.spec.single_batch:
        batch = max(source.count(plan.name), 1)
    columns = [c.name for c in plan.columns]
    progress.start("restore" if only else "copy", plan.name, source.count(plan.name))
    rows = source.rows(plan.name, columns, plan.key, batch, terms=bool(plan.derived))
    for part in rows:
        values = [to_target(plan, row) for row in part]
        if fresh:
            inserted, updated = target.insert(plan, values), 0
        else:
            inserted, updated = target.upsert(plan, values, only)
        if report is not None:
            report.inserted += inserted
            report.updated += updated
        progress.advance(len(part))
    progress.finish()


def _verify(
    source: SqliteSource,
    target: PgTarget,
    plan: TablePlan,
    report: TableReport,
    opts: MigrateOptions,
    progress: Progress,
) -> None:
    """Checksum the table on both sides."""
    kinds = digest_kinds(plan)
    batch = plan.spec.batch_rows or opts.batch_rows
    progress.start("verify", plan.name, report.source_rows + report.target_rows)
    mine = Checksum()
    columns = [c.name for c in plan.columns]
    for part in source.rows(plan.name, columns, plan.key, batch, terms=bool(plan.derived)):
        for row in part:
            mine.add(source_digest_row(plan, row), kinds)
        progress.advance(len(part))
    theirs = Checksum()
    for part in target.rows(plan, batch):
        for row in part:
            theirs.add(row, kinds)
        progress.advance(len(part))
    progress.finish()
    report.source_sha256 = mine.hexdigest()
    report.target_sha256 = theirs.hexdigest()
