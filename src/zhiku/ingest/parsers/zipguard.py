"""Checks a zip container (``.docx``, ``.xlsx``, ``.pptx``) before a library inflates it.

The declared sizes are checked first (entry count, each entry, the total, the compression
ratio); then every entry is inflated in small pieces and counted, because the declared sizes
can lie: Python's ``zipfile`` truncates an entry at its declared size, but only after inflating
one whole read into memory, so a small declared size over a huge stream still costs gigabytes.
Inflating costs a little time (zlib runs at hundreds of MB/s) and no memory.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from zhiku.core.errors import ParseError

_STORED, _DEFLATED = 0, 8
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"
_PIECE = 1 << 20  # bytes inflated per step while counting
_RATIO_FLOOR = 1 << 20  # entries this small may compress as well as they like


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What a zip container may hold (uncompressed bytes, entries, inflated:compressed)."""

    max_entries: int = 10_000
    max_entry_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 200


def _refuse(message: str) -> ParseError:
    return ParseError(f"refused: {message} (a zip bomb?)")


def _check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise _refuse(f"the archive has {len(infos):,} entries, over the {limits.max_entries:,} "
                      "limit")
    total = 0
    for info in infos:
        if info.file_size > limits.max_entry_bytes:
            raise _refuse(f"entry '{info.filename}' inflates to {info.file_size:,} bytes, over "
                          f"the {limits.max_entry_bytes:,}-byte limit per entry")
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
            raise _refuse(f"entry '{info.filename}' is compressed {ratio:,.0f} to 1, over the "
                          f"{limits.max_ratio} to 1 limit")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _refuse(f"the archive inflates to more than {limits.max_total_bytes:,} bytes")


def _raw_data(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The compressed bytes of ``info``, located through its local header like ``zipfile``."""
    start = info.header_offset
    header = data[start:start + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise ParseError(f"corrupt zip archive: bad local header for '{info.filename}'")
    fields = _LOCAL_HEADER.unpack(header)
    begin = start + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    if begin + info.compress_size > len(data):
        raise ParseError(f"corrupt zip archive: '{info.filename}' is truncated")
    return memoryview(data)[begin:begin + info.compress_size]


def _inflated_size(raw: memoryview, info: zipfile.ZipInfo) -> int:
    """Inflate ``raw`` piece by piece; stop one piece after the declared size is passed."""
    if info.compress_type == _STORED:
        return len(raw)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    pending: bytes | memoryview = raw
    try:
        while size <= info.file_size:
            piece = inflater.decompress(pending, _PIECE)
            pending = inflater.unconsumed_tail
            if not piece and not pending:  # input used up and nothing left to flush
                break
            size += len(piece)
    except zlib.error as exc:
        raise ParseError(f"corrupt zip archive: '{info.filename}' ({exc})") from exc
    return size


def check_zip(data: bytes, limits: ZipLimits) -> None:
    """Raise ``ParseError`` unless ``data`` is a zip whose entries stay within ``limits``,
    both as declared and as actually inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ParseError(f"corrupt or unreadable zip archive ({exc})") from exc
    _check_declared(infos, limits)
    for info in infos:
        if info.flag_bits & 0x1:
            raise ParseError(f"entry '{info.filename}' is encrypted")
        if info.compress_type not in (_STORED, _DEFLATED):
            raise ParseError(f"entry '{info.filename}' uses an unsupported compression method "
                             f"({info.compress_type})")
        if _inflated_size(_raw_data(data, info), info) > info.file_size:
            raise _refuse(f"entry '{info.filename}' inflates to more than the "
                          f"{info.file_size:,} bytes it declares")
