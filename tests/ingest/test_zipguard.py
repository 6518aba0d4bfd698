"""Zip bombs in Office files are refused before any library inflates them, by their declared
sizes and by what they really inflate to; real Office files still parse."""

from __future__ import annotations

import tracemalloc

import pytest

from bombs import MiB, docx_bomb, docx_bytes, pptx_bomb, xlsx_bomb
from zhiku.core.errors import ParseError
from zhiku.ingest.parsers import default_registry
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.zipguard import ZipLimits, check_zip

REGISTRY = default_registry()


@pytest.mark.parametrize(
    ("name", "make"), [("memo.docx", docx_bomb), ("sheet.xlsx", xlsx_bomb),
                       ("deck.pptx", pptx_bomb)],
)
def test_every_office_format_refuses_a_bomb(name: str, make: object) -> None:
    data = make(16 * MiB)  # type: ignore[operator]
    assert len(data) < 100_000
    with pytest.raises(ParseError, match="zip bomb") as caught:
        REGISTRY.parse(data, filename=name, options=ParseOptions())
    assert "compressed 1,0" in caught.value.message  # deflate's best: about 1030 to 1


def test_each_declared_limit_names_itself() -> None:
    bomb = docx_bomb(16 * MiB)
    lax = {"max_ratio": 10**6}
    cases = [
        (ZipLimits(max_entries=5), docx_bytes(), "entries, over the 5 limit"),
        (ZipLimits(max_entry_bytes=8 * MiB, **lax), bomb, "over the 8,388,608-byte limit per"),
        (ZipLimits(max_total_bytes=2 * MiB, **lax), docx_bomb(3 * MiB), "inflates to more "
         "than 2,097,152 bytes"),
        (ZipLimits(), bomb, "over the 200 to 1 limit"),
    ]
    for limits, data, message in cases:
        with pytest.raises(ParseError, match=message):
            check_zip(data, limits)
    check_zip(docx_bytes(), ZipLimits())  # a real document passes


def test_a_lying_header_is_caught_while_inflating_in_small_pieces() -> None:
    """The headers say 5,000 bytes; the stream inflates to 64 MiB. Counting it costs no
    memory, and the entry is refused."""
    liar = docx_bomb(64 * MiB, declared=5_000)
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match="more than the 5,000 bytes it declares"):
            REGISTRY.parse(liar, filename="liar.docx", options=ParseOptions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB


def test_damaged_and_encrypted_archives_are_clear_errors() -> None:
    with pytest.raises(ParseError, match="corrupt or unreadable zip"):
        check_zip(b"PK\x03\x04 not really a zip", ZipLimits())
    truncated = docx_bytes()
    with pytest.raises(ParseError, match="corrupt"):
        REGISTRY.parse(truncated[: len(truncated) // 2], filename="cut.docx",
                       options=ParseOptions())
