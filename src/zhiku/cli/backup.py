"""``zhiku backup`` and ``zhiku restore``: thin over ``zhiku.backup.run``."""

from __future__ import annotations

from pathlib import Path

import typer

from zhiku.cli.context import handle_errors, print_json, say
from zhiku.core.settings import Settings


@handle_errors
def backup(
    dest: Path = typer.Argument(..., help="A new (or empty) folder to write the backup into."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Back up the database, stored originals and secret key to a folder.

    Consistent while the server runs and ingestion writes; the manifest lists each file's size
    and SHA-256."""
    from dataclasses import asdict

    from zhiku.backup.run import backup as run_backup

    manifest = run_backup(Settings(), dest)
    if as_json:
        print_json(asdict(manifest))
        return
    total = sum(f.size for f in manifest.files)
    say(f"backed up {manifest.backend} (schema {manifest.schema_version}) to {dest}: "
        f"{len(manifest.files)} files, {total:,} bytes; "
        f"{manifest.counts.get('documents', 0)} documents, "
        f"{manifest.counts.get('chunks', 0)} chunks")


@handle_errors
def restore(
    src: Path = typer.Argument(..., help="A folder written by `zhiku backup`."),
) -> None:
    """Restore a backup into an empty home or database, checking it first.

    The checksums are verified before anything is written, the schema version and the
    database's integrity after."""
    from zhiku.backup.run import restore as run_restore

    settings = Settings()
    manifest = run_restore(settings, src)
    say(f"restored the backup of {manifest.created_at} into {settings.database_display}: "
        f"{manifest.counts.get('documents', 0)} documents, "
        f"{manifest.counts.get('chunks', 0)} chunks")
