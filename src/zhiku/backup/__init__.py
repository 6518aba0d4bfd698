"""Backups of an installation and their restore: ``backup(settings, dest)`` and
``restore(settings, src)`` (``run.py``), a manifest with checksums (``manifest.py``), one
module per backend (``sqlite.py``: the online backup API; ``postgres.py``: ``pg_dump`` and
``pg_restore``), and the checks a restored database passes (``checks.py``)."""
