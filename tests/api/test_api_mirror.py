"""Response models that mirror a core dataclass (``Mirror``): the wire model has the
dataclass's fields in its order and with its types, each required unless the model declares
it optional itself, and the OpenAPI document shows exactly that."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from zhiku.api.app import create_app
from zhiku.api.mirror import Mirror
from zhiku.api.routers.conversations import UsageOut
from zhiku.api.routers.document_batch import ItemOut
from zhiku.api.routers.evals import EvalSetOut
from zhiku.api.routers.logs import CorrectionOut
from zhiku.api.routers.providers import ModelChoiceOut
from zhiku.api.routers.users import MemberOut
from zhiku.core.settings import Settings

MIRRORS = [UsageOut, ItemOut, EvalSetOut, CorrectionOut, ModelChoiceOut, MemberOut]


@dataclass
class Reading:
    """A core record with defaults (the wire form requires them)."""

    id: int
    label: str = ""
    score: float = 0.0
    note: str | None = None


class ReadingOut(Mirror, source=Reading):
    """A reading as a client sees it."""

    note: str | None = None


def test_a_mirror_takes_fields_order_and_types_from_its_dataclass() -> None:
    schema = ReadingOut.model_json_schema(mode="serialization")
    assert list(schema["properties"]) == ["id", "label", "score", "note"]
    assert schema["required"] == ["id", "label", "score"]
    assert schema["properties"]["score"]["type"] == "number"
    assert schema["description"] == "A reading as a client sees it."
    made = ReadingOut.model_validate(Reading(7, "x"), from_attributes=True)
    assert made.model_dump() == {"id": 7, "label": "x", "score": 0.0, "note": None}


def test_a_source_must_be_a_dataclass() -> None:
    with pytest.raises(TypeError, match="not a dataclass"):
        class Broken(Mirror, source=int):
            pass


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The OpenAPI document (of an app that opens nothing)."""
    return create_app(Settings(home=Path("/nonexistent-not-opened"))).openapi()


@pytest.mark.parametrize("model", MIRRORS, ids=lambda m: m.__name__)
def test_each_wire_model_shows_its_dataclass(model: type[Mirror], spec: dict[str, Any]) -> None:
    """The core record's fields in its order, each required unless the model says otherwise;
    the OpenAPI document names the wire model."""
    schemas = spec["components"]["schemas"]
    # a name two routers use is qualified by its module
    qualified = f"{model.__module__.replace('.', '__')}__{model.__name__}"
    component = schemas.get(qualified) or schemas[model.__name__]
    core = [f.name for f in fields(model.__mirror_of__)]  # type: ignore[attr-defined]
    assert list(component["properties"]) == core
    optional = {n for n, f in model.model_fields.items() if not f.is_required()}
    assert component["required"] == [n for n in core if n not in optional]
