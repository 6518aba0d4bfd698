"""The Content-Type an original file is served with: what the document was parsed as, confirmed
by the file's leading bytes; never what the uploader claimed. Unknown means octet-stream."""

from __future__ import annotations

OCTET_STREAM = "application/octet-stream"

_ZIP = (b"PK\x03\x04",)
_BINARY: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "xlsm": ("application/vnd.ms-excel.sheet.macroEnabled.12", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "bmp": ("image/bmp", (b"BM",)),
    "tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    "tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    "webp": ("image/webp", (b"RIFF",)),
}
_TEXT: dict[str, str] = {
    "txt": "text/plain",
    "text": "text/plain",
    "log": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "html": "text/html",
    "htm": "text/html",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "ndjson": "application/x-ndjson",
}


def served_type(fmt: str, data: bytes) -> str:
    """The media type for a document of format ``fmt`` (its parser's extension) with these
    bytes; octet-stream when the bytes do not look like that format."""
    fmt = fmt.lower()
    if fmt in _BINARY:
        media, magic = _BINARY[fmt]
        if fmt == "webp" and data[8:12] != b"WEBP":
            return OCTET_STREAM
        return media if data.startswith(magic) else OCTET_STREAM
    if fmt in _TEXT:
        head = data[:8192]
        if b"\x00" in head:
            return OCTET_STREAM
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return _TEXT[fmt]
        return f"{_TEXT[fmt]}; charset=utf-8"
    return OCTET_STREAM
