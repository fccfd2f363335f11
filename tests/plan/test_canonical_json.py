"""Canonical JSON, the text every fingerprint, plan id and desired digest hashes, is what
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes.

The fingerprint module writes it with orjson where orjson writes the same bytes, and falls back
to json.dumps where it does not. Held here: every character escaped alike (one string of every
code point: escaping goes character by character), keys in the same order (code points, never
UTF-16 units), integers up to and past 64 bits, and whatever orjson refuses. Floats are the one
value the two write differently (``1e-07``, ``1e-7``): no model whose values are hashed may
hold one, which the last test checks by walking their types.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from types import NoneType, UnionType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from controller.models import MSPConfig, TenantConfig
from controller.models.observed import ObservedTenant
from controller.plan.fingerprint import _dumps, canonical_json
from controller.plan.types import FailedCheck, TenantPlan


def _definition(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


EVERY_CHARACTER = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def test_every_character_is_written_as_json_dumps_writes_it() -> None:
    assert _dumps(EVERY_CHARACTER) == _definition(EVERY_CHARACTER)
    assert _dumps({EVERY_CHARACTER: EVERY_CHARACTER}) == _definition(
        {EVERY_CHARACTER: EVERY_CHARACTER}
    )


@pytest.mark.parametrize(
    "value",
    [
        2**63 - 1,
        -(2**63),
        2**64 - 1,
        2**64,  # past orjson's range: json.dumps writes it
        -(2**63) - 1,
        10**40,
        "\ud800 a lone surrogate",  # orjson refuses it; json.dumps writes it
        {"\uffff": 1, "\U00010000": 2, "\ue000": 3, "a": 4},  # code point order, not UTF-16
        [True, False, None, 0, -1, "", [], {}],
    ],
)
def test_edge_values_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert _dumps(value) == _definition(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",))), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_json_values_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert _dumps(value) == _definition(value)
    assert canonical_json(value) == _definition(value)


# --- no float in what is hashed ---------------------------------------------------------------

# Desired digest: the MSP and tenants. Plan id: each tenant's plan but its accounting (what
# observing cost, which holds the one float, resource units), and the failed checks.
# Fingerprints: the values of the desired and observed models the planner passes.
HASHED: list[tuple[type, frozenset[str]]] = [
    (MSPConfig, frozenset()),
    (TenantConfig, frozenset()),
    (TenantPlan, frozenset({"accounting"})),
    (FailedCheck, frozenset()),
    (ObservedTenant, frozenset()),
]


def _floats(annotation: Any, where: str, seen: set[Any], skip: frozenset[str]) -> list[str]:
    if annotation is float:
        return [where]
    if isinstance(annotation, typing.TypeVar) or annotation in (Any, NoneType):
        return []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, UnionType):
        found: list[str] = []
        for arg in typing.get_args(annotation):
            found += _floats(arg, where, seen, frozenset())
        return found
    if not isinstance(annotation, type) or annotation in seen:
        return []
    seen.add(annotation)
    if issubclass(annotation, BaseModel):
        fields = {name: f.annotation for name, f in annotation.model_fields.items()}
    elif dataclasses.is_dataclass(annotation):
        fields = typing.get_type_hints(annotation)
    else:
        return []
    found = []
    for name, field_type in fields.items():
        if name not in skip:
            found += _floats(field_type, f"{annotation.__name__}.{name}", seen, frozenset())
    return found


def test_no_hashed_model_holds_a_float() -> None:
    seen: set[Any] = set()
    found = [where for model, skip in HASHED for where in _floats(model, "", seen, skip)]
    assert not found, f"floats in hashed models ({found}): see controller/plan/fingerprint.py"


def test_the_walk_finds_a_float_where_there_is_one() -> None:
    seen: set[Any] = set()
    assert _floats(TenantPlan, "", seen, frozenset()) == ["ServiceUsage.resource_units"]
