"""Cheap language detection: Chinese or English (the two languages Zhiku's prompts speak)."""

from __future__ import annotations

import re

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK ideographs."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if CJK_RE.match(c)) / len(chars)


def detect_language(text: str) -> str:
    """``"zh"`` when the text is mostly Chinese, else ``"en"``."""
    return "zh" if cjk_ratio(text[:2000]) >= 0.15 else "en"
