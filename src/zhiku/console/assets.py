"""The console's files, read once when the app is built: compressed, tagged and versioned.

The version is a hash of every file, so ``/console/v/<version>/…`` URLs can be cached for a
year (a new release has new URLs, and relative module imports stay inside one version), while
the page itself is revalidated on every load.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

_COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".json", ".txt")
_MIN_COMPRESS = 512  # bytes; smaller bodies are sent as they are
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its bytes, a gzip copy when that is smaller, its media type and ETag."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def _asset(path: Path, body: bytes) -> Asset:
    packed = None
    if path.suffix in _COMPRESSIBLE and len(body) >= _MIN_COMPRESS:
        candidate = gzip.compress(body, compresslevel=9, mtime=0)
        packed = candidate if len(candidate) < len(body) else None
    media = _MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    return Asset(body, packed, media or "application/octet-stream", etag)


class ConsoleAssets:
    """Every file under ``root`` by its relative POSIX path, and the release version."""

    def __init__(self, root: Path) -> None:
        self._files: dict[str, Asset] = {}
        digest = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if "__pycache__" in rel:
                continue
            body = path.read_bytes()
            digest.update(rel.encode() + b"\0" + body + b"\0")
            self._files[rel] = _asset(path, body)
        self.version = digest.hexdigest()[:12]
        page = self._files.get("index.html")
        if page is not None:  # the page loads this release's assets by their versioned URLs
            text = page.body.decode("utf-8").replace(
                '="/console/', f'="/console/v/{self.version}/')
            self._files["index.html"] = _asset(root / "index.html", text.encode("utf-8"))

    def get(self, rel: str) -> Asset | None:
        """The file at ``rel``, or None (also for paths that try to leave the folder)."""
        return self._files.get(rel)
