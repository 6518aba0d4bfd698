"""Response models that show a core dataclass as it is: its fields, in its order, with its
types, written once in the core (``class UsageOut(Mirror, source=TurnUsage)``).

Every field of the wire model is required (an answer always carries it), whatever default the
dataclass gives it; a field the model declares itself replaces the dataclass's, e.g. to keep
an optional field optional (``error: str | None = None``). The model's docstring is its own:
it says what the object means to an API client.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel
from pydantic._internal._model_construction import ModelMetaclass


class _MirrorMeta(ModelMetaclass):
    """Puts the fields of ``source`` (a dataclass) ahead of the class's own annotations."""

    def __new__(mcs, name: str, bases: tuple[type[Any], ...], namespace: dict[str, Any],
                source: type | None = None, **kwargs: Any) -> type:
        if source is not None:
            if not is_dataclass(source):
                raise TypeError(f"{name}: source {source!r} is not a dataclass")
            hints = get_type_hints(source)
            own: dict[str, Any] = dict(namespace.get("__annotations__", {}))
            namespace["__annotations__"] = {f.name: hints[f.name] for f in fields(source)} | own
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if source is not None:
            cls.__mirror_of__ = source  # type: ignore[attr-defined]
        return cls


class Mirror(BaseModel, metaclass=_MirrorMeta):
    """Base of a response model that mirrors a dataclass (``source=``, see the module);
    ``__mirror_of__`` is that dataclass."""

    def __init_subclass__(cls, source: type | None = None, **kwargs: Any) -> None:
        """``source`` is taken by the metaclass; named here so type checkers know it."""
        super().__init_subclass__(**kwargs)
