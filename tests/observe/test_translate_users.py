"""Graph users -> observed users, against a straightforward reference.

``translate.user`` runs for every user of every tenant and is written for speed (no helper
calls per field, one lookup per licence). On generated Graph user objects (fields absent,
null, blank, padded, not text; licences with and without a skuId, in any case) it gives what
the plain reading below gives, and equal texts of different users are one object (what
keeps a large observation small).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from controller.models.observed import ObservedUser
from controller.observe import translate

TEXT_FIELDS = (
    "displayName",
    "mailNickname",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "usageLocation",
    "mail",
)
ABSENT = object()

texts = st.one_of(
    st.none(),
    st.sampled_from(["", "   ", "Alice", " Alice  Smith ", "US", "us", "Ünïcode"]),
    st.text(max_size=6),
    st.integers(-5, 5),  # not text: Graph never sends it, the reading must not break on it
)
licence = st.fixed_dictionaries(
    {},
    optional={
        "skuId": st.one_of(
            st.none(), st.just(""), st.sampled_from(["ABC-1", "abc-1", "6FD2C87F-B296", "x"])
        ),
        "disabledPlans": st.just([]),
    },
)


@st.composite
def graph_users(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": draw(st.sampled_from(["u1", "0b1c-AAAA"])),
        "userPrincipalName": draw(st.sampled_from(["alice@contoso.com", "Bob@Contoso.com"])),
    }
    for name in TEXT_FIELDS:
        value = draw(st.one_of(st.just(ABSENT), texts))
        if value is not ABSENT:
            item[name] = value
    enabled = draw(st.one_of(st.just(ABSENT), st.none(), st.booleans()))
    if enabled is not ABSENT:
        item["accountEnabled"] = enabled
    licences = draw(st.one_of(st.just(ABSENT), st.none(), st.lists(licence, max_size=3)))
    if licences is not ABSENT:
        item["assignedLicenses"] = licences
    return item


def _reference(item: dict[str, Any]) -> ObservedUser:
    def text(value: Any) -> str | None:
        if value is None:
            return None
        return str(value).strip() or None

    return ObservedUser(
        id=str(item["id"]),
        user_principal_name=str(item["userPrincipalName"]),
        display_name=text(item.get("displayName")),
        mail_nickname=text(item.get("mailNickname")),
        given_name=text(item.get("givenName")),
        surname=text(item.get("surname")),
        job_title=text(item.get("jobTitle")),
        department=text(item.get("department")),
        account_enabled=item.get("accountEnabled"),
        usage_location=text(item.get("usageLocation")),
        license_sku_ids=frozenset(
            str(lic["skuId"]).lower()
            for lic in item.get("assignedLicenses") or ()
            if lic.get("skuId")
        ),
        mail=text(item.get("mail")),
    )


@given(graph_users())
def test_a_user_reads_as_the_plain_reading(item: dict[str, Any]) -> None:
    assert translate.user(item) == _reference(item)
    assert translate.user(item, {}) == _reference(item)


@given(graph_users(), graph_users())
def test_equal_texts_and_licence_sets_of_two_users_are_one_object(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    licences: dict[frozenset[str], frozenset[str]] = {}
    # Separate copies of each text, as two parsed answers hold them.
    a = translate.user({k: _copied(v) for k, v in first.items()}, licences)
    b = translate.user({k: _copied(v) for k, v in second.items()}, licences)
    for name in ObservedUser.__dataclass_fields__:
        mine, theirs = getattr(a, name), getattr(b, name)
        if isinstance(mine, str | frozenset) and mine == theirs:
            assert mine is theirs, name


def _copied(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(list(value))  # an equal string that is another object
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value
