"""``backup(settings, dest)`` and ``restore(settings, src)``: what ``zhiku backup`` and
``zhiku restore`` do.

A backup folder holds the database (``zhiku.db``, or ``database.pgdump`` from PostgreSQL),
which includes the stored originals of uploaded and fetched files, the home's
``secret.key`` (it decrypts the stored provider and tool keys), and ``manifest.json`` with
each file's size and SHA-256. A restore goes only into an empty target and checks, in order:
the checksums, the backend, the schema version (no newer than this Zhiku), then after the copy
the database's own integrity, its schema version against the manifest, that every chunk's
document exists, and the row counts against the manifest.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from zhiku import __version__
from zhiku.backup import postgres, sqlite
from zhiku.backup.checks import check, counts
from zhiku.backup.manifest import Manifest, describe, verify
from zhiku.core.errors import Conflict, InvalidInput, ZhikuError
from zhiku.core.settings import Settings
from zhiku.core.timestamps import now_stamp
from zhiku.models.llm.secrets import KEY_FILE
from zhiku.store.db import open_database
from zhiku.store.migrations import MIGRATIONS

SQLITE_FILE = "zhiku.db"
PG_FILE = "database.pgdump"


def _empty_folder(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} exists and is not an empty folder")
    dest.mkdir(parents=True, exist_ok=True)


def backup(settings: Settings, dest: Path) -> Manifest:
    """Back up the installation ``settings`` name into the new (or empty) folder ``dest``,
    consistent while the server runs and ingestion writes."""
    _empty_folder(dest)
    files: list[str] = []
    if settings.is_postgres:
        version, counted = postgres.dump(str(settings.database_url), dest / PG_FILE)
        files.append(PG_FILE)
    else:
        if not settings.db_path.is_file():
            raise InvalidInput(f"there is no database at {settings.db_path}")
        copy = dest / SQLITE_FILE
        sqlite.copy_online(settings.db_path, copy)
        version = sqlite.check_file(copy)
        with closing(sqlite3.connect(copy)) as conn:
            check(conn)
            counted = counts(conn)
        files.append(SQLITE_FILE)
    key = settings.home / KEY_FILE
    if key.is_file():
        shutil.copy2(key, dest / KEY_FILE)
        os.chmod(dest / KEY_FILE, 0o600)
        files.append(KEY_FILE)
    manifest = Manifest(
        zhiku_version=__version__, schema_version=version, backend=settings.database_kind,
        created_at=now_stamp(), files=[describe(dest, f) for f in files], counts=counted,
    )
    manifest.write(dest)
    return manifest


def restore(settings: Settings, src: Path) -> Manifest:
    """Restore the backup in ``src`` into the empty home and database ``settings`` name.
    ``InvalidInput`` (naming the file) for a damaged backup, ``Conflict`` for a target that
    is not empty; nothing is written to the target before the backup passes its checks."""
    manifest = Manifest.read(src)
    verify(src, manifest)
    if manifest.backend != settings.database_kind:
        raise InvalidInput(f"this is a {manifest.backend} backup and the target is "
                           f"{settings.database_kind}: restore it into a {manifest.backend} "
                           "installation (then `zhiku migrate` to move to PostgreSQL)")
    if manifest.schema_version > len(MIGRATIONS):
        raise InvalidInput(f"the backup's schema version {manifest.schema_version} is newer "
                           f"than this Zhiku's ({len(MIGRATIONS)}): upgrade Zhiku first")
    names = {f.path for f in manifest.files}
    key = settings.home / KEY_FILE
    if KEY_FILE in names and key.exists():
        raise Conflict(f"the target home already has {key}: restore into an empty home")
    if settings.is_postgres:
        _restore_postgres(str(settings.database_url), src / PG_FILE, manifest)
    else:
        _restore_sqlite(settings.db_path, src / SQLITE_FILE, manifest)
    if KEY_FILE in names:
        key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / KEY_FILE, key)
        os.chmod(key, 0o600)
    db = open_database(settings)  # migrates a backup from an older Zhiku forward
    try:
        found = counts(db.conn)
    finally:
        db.close()
    if manifest.counts and found != manifest.counts:
        differ = {t: (manifest.counts.get(t), n) for t, n in found.items()
                  if manifest.counts.get(t) != n}
        raise ZhikuError(f"the restored database's row counts differ from the backup's: {differ}")
    return manifest


def _restore_sqlite(target: Path, source: Path, manifest: Manifest) -> None:
    if not sqlite.is_empty(target):
        raise Conflict(f"{target} already holds a database: restore into an empty home")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, partial)
    try:
        version = sqlite.check_file(partial)
        _same_version(version, manifest)
        with closing(sqlite3.connect(partial)) as conn:
            check(conn)
        for leftover in (target, target.with_name(target.name + "-wal"),
                         target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # an empty file, or an empty database's journal
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _restore_postgres(url: str, source: Path, manifest: Manifest) -> None:
    if not postgres.is_empty(url):
        raise Conflict("the target PostgreSQL database already has tables: restore into an "
                       "empty database")
    postgres.restore(url, source)
    from zhiku.store.db import open_postgres

    db = open_postgres(url, pool_size=1, migrate=False)
    try:
        _same_version(postgres.schema_version(db.conn), manifest)
        check(db.conn)
    finally:
        db.close()


def _same_version(found: int, manifest: Manifest) -> None:
    if found != manifest.schema_version:
        raise ZhikuError(f"the restored database is at schema version {found}, the manifest "
                         f"says {manifest.schema_version}")
