"""The embedders a server offers, in plain words: what each reads well, and whether it is
installed here (without loading any model)."""

from __future__ import annotations

from dataclasses import dataclass

from zhiku.core.extras import has_extra, install_hint
from zhiku.core.settings import Settings

MULTILINGUAL = "use-multilingual"


@dataclass(frozen=True, slots=True)
class EmbedderInfo:
    """One embedder: ``chinese`` says whether it finds Chinese text by meaning;
    ``install`` is the command that makes a missing one available."""

    name: str
    label: str
    chinese: bool
    installed: bool
    install: str | None = None


def catalog(settings: Settings) -> list[EmbedderInfo]:
    """Every embedder this server knows, the Chinese-capable one first."""
    multilingual = has_extra("multilingual")
    entries = [
        EmbedderInfo(MULTILINGUAL, "Multilingual: Chinese, English and 14 more languages",
                     True, multilingual, None if multilingual else install_hint("multilingual")),
        EmbedderInfo("minilm", "English only (bundled)", False, True),
        EmbedderInfo("hashing", "Word hashing: exact words, no meaning (for tests)", False, True),
    ]
    if settings.openai_embed_base_url:
        entries.append(EmbedderInfo(f"openai:{settings.openai_embed_model}",
                                    f"OpenAI-compatible server: {settings.openai_embed_model}",
                                    False, True))
    return entries


def reads_chinese(name: str) -> bool:
    """Whether the embedder called ``name`` finds Chinese text by meaning."""
    return name == MULTILINGUAL
