"""Words that frame a question rather than say what it is about (什么, 几天, what, how many…)."""

from __future__ import annotations

import re

from zhiku.text.tokenize import ZH_STOPWORDS

# Words that frame a question rather than say what it is about.
ZH_QUESTION_WORDS = frozenset(
    "什么 哪 哪些 哪个 哪里 哪儿 哪位 哪年 哪一年 哪一个 哪种 哪家 谁 几 几个 几天 几年 几次 几种 "
    "几位 第几 多少 多久 多长 多大 多高 多远 多重 多少次 多少年 多少个 怎么 怎样 怎么样 怎么办 "
    "如何 为什么 为何 何时 何地 何种 何人 是否 是不是 有没有 能否 可否 请问 吗 呢 吧 啊 么 时候 "
    "什么样 干什么 叫做 称为 之一 分别 主要 哪里 还是 还有 以及 一下 可以 什么时候".split()
)
EN_QUESTION_WORDS = frozenset(
    """many much name named called known kind type whose what which who whom when where why how
    did does do was were is are also the""".split()
)
_ZH_QUESTION_RE = re.compile(r"[什哪谁怎]|^第?几.?$")


def is_question_word(word: str) -> bool:
    """True for a Chinese question or function word (a jieba word)."""
    return word in ZH_QUESTION_WORDS or word in ZH_STOPWORDS or bool(_ZH_QUESTION_RE.search(word))
