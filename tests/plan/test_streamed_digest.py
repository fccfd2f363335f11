"""``digest_with_list`` gives the hash ``digest`` gives for the same value, whatever the fields,
the list's key (before, between or after the fields in sorted order) and its items, while
never holding the whole value: plan ids and desired digests did not change when it replaced
``digest`` for them. Items said to be JSON already (``json_items``, as a plan's tenants are
when its id is worked out) hash as they would if they were walked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.plan import plan_estate
from controller.plan.fingerprint import digest, digest_with_list
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@pytest.mark.parametrize("json_items", [False, True])
@given(
    fields=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    key=st.text(max_size=6),
    items=st.lists(json_values, max_size=5),
)
def test_the_streamed_digest_is_the_whole_value_s(
    json_items: bool, fields: dict[str, Any], key: str, items: list[Any]
) -> None:
    fields.pop(key, None)
    streamed = digest_with_list(fields, key, iter(items), json_items=json_items)
    assert streamed == digest({**fields, key: items})


def test_a_plan_s_tenants_dumped_as_json_hash_as_if_walked() -> None:
    state = demo_desired()
    plan = plan_estate(state, demo_observed(state), demo_context(state))
    tenants = [t.model_dump(mode="json", by_alias=True) for t in plan.tenants]
    assert digest_with_list({}, "tenants", tenants, json_items=True) == digest({"tenants": tenants})
