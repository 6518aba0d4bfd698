"""Decoding files of unknown encoding, and refusing binary or undecodable data."""

from __future__ import annotations

import codecs

import pytest

from zhiku.core.errors import ParseError
from zhiku.text.encoding import decode_text, looks_binary

ZH_SIMPLIFIED = "员工报销需要提交发票、审批单和差旅行程单。我们在这里说中国话。"
ZH_TRADITIONAL = "這是一個繁體中文的測試文件，我們說國語，員工報銷需要發票。"


def test_utf8() -> None:
    assert decode_text("知识库 café".encode()) == ("知识库 café", "utf-8")


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (b"", "utf-16"), (b"", "utf-32")],
)
def test_byte_order_marks(bom: bytes, codec: str) -> None:
    data = bom + "带 BOM 的文本".encode(codec)  # utf-16/utf-32 codecs write their own BOM
    text, _ = decode_text(data)
    assert text == "带 BOM 的文本"


def test_gb18030_and_gbk() -> None:
    assert decode_text(ZH_SIMPLIFIED.encode("gb18030")) == (ZH_SIMPLIFIED, "gb18030")
    text, _ = decode_text(ZH_SIMPLIFIED.encode("gbk"))
    assert text == ZH_SIMPLIFIED


def test_big5() -> None:
    assert decode_text(ZH_TRADITIONAL.encode("big5")) == (ZH_TRADITIONAL, "big5")


def test_binary_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert looks_binary(png)
    with pytest.raises(ParseError, match="binary"):
        decode_text(png)
    assert not looks_binary(b"")
    assert not looks_binary(b"plain text\twith tabs\n")


def test_undecodable_bytes_are_refused() -> None:
    with pytest.raises(ParseError, match="encoding"):
        decode_text(bytes(range(128, 256)) * 10)


def test_utf8_with_one_damaged_byte_still_decodes_as_utf8() -> None:
    # A long UTF-8 file cut in the middle of its last character (an interrupted copy) is still
    # UTF-8: one replacement character, not a refusal or a mojibake guess.
    data = (ZH_SIMPLIFIED * 40).encode()[:-1]
    text, encoding = decode_text(data)
    assert encoding == "utf-8"
    assert text.startswith(ZH_SIMPLIFIED)
    assert text.count("\ufffd") == 1
