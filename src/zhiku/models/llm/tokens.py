"""Prompt token counts for models whose tokenizer we do not run: a per-script estimate.

``count_tokens`` counts one piece per CJK character and about one per five Latin letters. Real
tokenizers differ by script (SmolLM2, an English model, spends ~1.9 tokens per CJK piece where
Qwen or DeepSeek spend ~1), so the estimate is scaled separately for CJK and other text: by a
fixed safety factor, or by factors calibrated once against the server's own tokenizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from zhiku.text.lang import CJK_RE
from zhiku.text.tokens import count_tokens

FRAMING = 4  # tokens a chat template adds around each message
CALIBRATION = {
    "cjk": "员工每月累积带薪年假，未休假期可以结转到次年三月。报销需要提供发票原件、部门审批单和"
    "本人银行卡信息，财务部在五个工作日内完成报销。公司鼓励员工参加培训，培训费用由部门预算承担。",
    "other": "Employees accrue paid leave monthly; unused days carry over until March. Expense "
    "claims need the original invoice, the department's approval form and bank details, and "
    "finance pays within five working days. Retrieval-augmented generation (RAG) v2.1, 2024.",
}


class TokenEstimator:
    """``ceil(cjk * cjk_factor + other * other_factor) + FRAMING``; never under-counts when the
    factors come from ``calibrated``."""

    def __init__(self, cjk_factor: float = 1.3, other_factor: float = 1.3) -> None:
        self.cjk_factor = cjk_factor
        self.other_factor = other_factor

    def count(self, text: str) -> int:
        """Estimated prompt tokens of ``text`` as one message."""
        total = count_tokens(text)
        cjk = len(CJK_RE.findall(text))
        return math.ceil(cjk * self.cjk_factor + (total - cjk) * self.other_factor) + FRAMING

    @classmethod
    def calibrated(
        cls, tokenize: Callable[[str], int], margin: float = 1.15
    ) -> TokenEstimator:
        """Factors from the real tokenizer's counts on two fixed samples, plus ``margin``."""
        factors = {}
        for script, sample in CALIBRATION.items():
            ratio = tokenize(sample) / max(1, count_tokens(sample))
            factors[script] = max(1.0, ratio * margin)
        return cls(factors["cjk"], factors["other"])
