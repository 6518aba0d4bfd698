"""Zhiku (智库): grounded assistants over a company's own documents, on any model.

The Python API is :class:`zhiku.Zhiku` (see ``zhiku.service``); settings are
:class:`zhiku.Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zhiku.core.settings import Settings
    from zhiku.service import Zhiku

__all__ = ["Settings", "Zhiku"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Zhiku":
        from zhiku.service import Zhiku

        return Zhiku
    if name == "Settings":
        from zhiku.core.settings import Settings

        return Settings
    raise AttributeError(name)
