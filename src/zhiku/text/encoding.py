"""Decode bytes of unknown encoding (UTF-8/16, GB18030/GBK, Big5, ...) or refuse binary data."""

from __future__ import annotations

import codecs

from zhiku.core.errors import ParseError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Tried in order when the bytes are not valid UTF-8; GB18030 is a superset of GBK and GB2312.
_CJK_CANDIDATES = ("gb18030", "big5")
_CONTROL = {c for c in range(32) if c not in (9, 10, 12, 13)}
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


def looks_binary(data: bytes) -> bool:
    """True for data with NUL bytes or many control characters (an image renamed ``.txt``)."""
    sample = data[:8192]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample.translate(None, _NOT_CONTROL))  # what is left: the control bytes
    return controls / len(sample) > 0.05


def _quality(text: str) -> float:
    """Share of characters that are ordinary letters, CJK, digits, punctuation or spaces."""
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    return 1.0 - bad / len(text)


def decode_text(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise ``ParseError`` for binary or undecodable data."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    if looks_binary(data):
        raise ParseError("file looks binary, not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        lenient = data.decode("utf-8", errors="replace")
        # A UTF-8 file cut mid-character, or a long one with a stray damaged byte, is UTF-8.
        truncated = exc.reason == "unexpected end of data" and not data[: exc.start].isascii()
        if truncated or lenient.count("\ufffd") <= len(lenient) // 1000:
            return lenient, "utf-8"
    best: tuple[float, str, str] | None = None
    for name in _CJK_CANDIDATES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        score = _quality(text) + _cjk_plausibility(text, name)
        if best is None or score > best[0]:
            best = (score, text, name)
    if best is None:
        best = _normalizer_guess(data)
    if best is None or best[0] < 0.9:
        raise ParseError("could not detect the text encoding (tried UTF-8, GB18030, Big5)")
    return best[1], best[2]


def _cjk_plausibility(text: str, encoding: str) -> float:
    """Small bonus for the encoding whose decoding yields common CJK characters."""
    common_simplified = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年"
    common_traditional = "的一是不了人我在有他這中大來上國個到說們為子和你地出道也時年"
    pool = common_simplified if encoding == "gb18030" else common_traditional
    hits = sum(1 for ch in text if ch in pool)
    return min(hits / max(len(text), 1) * 2.0, 0.05)


def _normalizer_guess(data: bytes) -> tuple[float, str, str] | None:
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None or match.encoding is None:
        return None
    text = str(match)
    return _quality(text), text, match.encoding
