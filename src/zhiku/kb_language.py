"""A knowledge base's embedder, chosen for the language of its documents, and what that means
for its retrieval, said plainly.

A new knowledge base without an explicit embedder gets one from its ``language`` hint: Chinese
(``zh``) or unknown/mixed (``auto``) content gets the multilingual embedder when it is
installed; English (``en``), or no hint, gets the server's default (``minilm``). An embedder
set by the operator (``ZHIKU_EMBEDDER``) is the default for every language. A knowledge base
whose embedder does not read Chinese finds Chinese text by keywords only: hybrid search drops
the vector half for Chinese questions, and says so.
"""

from __future__ import annotations

from typing import Literal

from zhiku.core.extras import has_extra
from zhiku.core.settings import Settings
from zhiku.models.embedders.catalog import MULTILINGUAL, reads_chinese
from zhiku.text.tokenize import has_cjk

KEYWORD_NOTE = (
    "The embedder '{name}' does not read Chinese: Chinese text in this knowledge base is found by "
    "keywords only, and vector scores of Chinese questions are ignored. For search by meaning "
    "in Chinese, switch to the multilingual embedder{install}."
)


def choose_embedder(settings: Settings, language: str | None) -> str:
    """The embedder for a new knowledge base of ``language`` (see the module's rules)."""
    configured = "embedder" in settings.model_fields_set
    if configured or language not in ("zh", "auto"):
        return settings.embedder
    return MULTILINGUAL if has_extra("multilingual") else settings.embedder


def chinese_retrieval(embedder: str) -> Literal["semantic", "keyword"]:
    """How a knowledge base with ``embedder`` finds Chinese text."""
    return "semantic" if reads_chinese(embedder) else "keyword"


def retrieval_note(embedder: str) -> str | None:
    """A plain sentence when Chinese text is found by keywords only, else None."""
    if reads_chinese(embedder):
        return None
    install = "" if has_extra("multilingual") else " (pip install 'zhiku[multilingual]')"
    return KEYWORD_NOTE.format(name=embedder, install=install)


def query_warning(query: str, embedders: dict[str, str]) -> str | None:
    """A warning when a Chinese ``query`` meets knowledge bases (name → embedder) whose
    embedder does not read Chinese, else None."""
    if not has_cjk(query):
        return None
    blind = sorted(kb for kb, name in embedders.items() if not reads_chinese(name))
    if not blind:
        return None
    return ("Chinese question, English-only embedder: knowledge base(s) "
            f"{', '.join(blind)} matched it by keywords only")
