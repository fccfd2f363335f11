"""``digest_with_list`` gives the hash ``digest`` gives for the same value, whatever the fields,
the list's key (before, between or after the fields in sorted order) and its items, while
never holding the whole value: plan ids and desired digests did not change when it replaced
``digest`` for them."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from controller.plan.fingerprint import digest, digest_with_list

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    fields=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    key=st.text(max_size=6),
    items=st.lists(json_values, max_size=5),
)
def test_the_streamed_digest_is_the_whole_value_s(
    fields: dict[str, Any], key: str, items: list[Any]
) -> None:
    fields.pop(key, None)
    assert digest_with_list(fields, key, iter(items)) == digest({**fields, key: items})
