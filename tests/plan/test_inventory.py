"""The inventory matcher on its own: indexing observed objects by a case-insensitive key, what
a key finds (one object, none, several, or nothing read), the step a declared object's
``ensure`` makes of it, and comparing the declared fields of an object found. Properties:
case does not matter, ambiguity is exactly "two or more objects share the key", the output
does not depend on the order of the declared objects, and the order observed changes only the
order of an ambiguous match's candidates."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.models.common import Ensure
from controller.models.observed import Unknown
from controller.plan import normalise as norm
from controller.plan.inventory import (
    Absent,
    AlreadyAbsent,
    Ambiguous,
    Compare,
    Create,
    Delete,
    Found,
    Inventory,
    Match,
    Matched,
    Step,
    Unobserved,
    compare_fields,
    inventory,
    match_declared,
    step,
)
from controller.plan.types import FieldChange


@dataclass(frozen=True)
class Seen:
    id: str
    address: str | None


@dataclass(frozen=True)
class Wanted:
    address: str
    ensure: Ensure = "present"


def _address(obj: Seen | Wanted) -> str | None:
    return obj.address


def _wanted(obj: Wanted) -> str:
    return obj.address


UNKNOWN = Unknown("throttled", "still throttled after retries")


# --- indexing and what a key finds -------------------------------------------------------------


def test_a_key_finds_its_one_object_in_any_case() -> None:
    alice = Seen("1", "Alice@Contoso.com")
    found = inventory([alice, Seen("2", "bob@contoso.com")], _address)
    assert found.match("alice@contoso.com") == Found(alice)
    assert found.match("ALICE@CONTOSO.COM") == Found(alice)
    assert found.match(" alice@contoso.com ") == Found(alice)


def test_a_key_no_object_has_finds_nothing() -> None:
    assert inventory([Seen("1", "alice@contoso.com")], _address).match("bob@x.com") == Absent()
    assert inventory([], _address).match("bob@x.com") == Absent()


def test_objects_whose_keys_differ_only_in_case_are_ambiguous_in_the_order_observed() -> None:
    first, second = Seen("b", "SALES@contoso.com"), Seen("a", "sales@contoso.com")
    found = inventory([first, Seen("c", "ops@contoso.com"), second], _address)
    assert found.match("Sales@Contoso.com") == Ambiguous((first, second))
    assert found.match("ops@contoso.com") == Found(Seen("c", "ops@contoso.com"))


def test_objects_without_a_key_are_not_indexed() -> None:
    found = inventory([Seen("1", None), Seen("2", ""), Seen("3", "  "), Seen("4", None)], _address)
    assert found == Inventory({})
    assert found.match("") == Absent()


# --- declared objects and their steps ----------------------------------------------------------


def test_declared_objects_come_back_in_key_order_with_their_normalised_key() -> None:
    seen = inventory([Seen("1", "b@x.com")], _address)
    declared = [Wanted("C@x.com"), Wanted("B@X.com"), Wanted("a@x.com", "absent")]
    assert match_declared(declared, _wanted, seen) == [
        Matched(declared[2], "a@x.com", Absent()),
        Matched(declared[1], "b@x.com", Found(Seen("1", "b@x.com"))),
        Matched(declared[0], "c@x.com", Absent()),
    ]


def test_against_unknown_objects_every_declared_object_is_unobserved() -> None:
    declared = [Wanted("a@x.com"), Wanted("b@x.com", "absent")]
    matched: list[Matched[Wanted, Seen]] = match_declared(declared, _wanted, UNKNOWN)
    assert [m.match for m in matched] == [Unobserved(UNKNOWN), Unobserved(UNKNOWN)]
    assert [m.step for m in matched] == [Unobserved(UNKNOWN), Unobserved(UNKNOWN)]


def test_nothing_declared_matches_nothing_even_when_unknown() -> None:
    assert match_declared([], _wanted, UNKNOWN) == []


ALICE = Seen("1", "alice@x.com")


@pytest.mark.parametrize(
    ("ensure", "found", "expected"),
    [
        ("present", Absent(), Create()),
        ("present", Found(ALICE), Compare(ALICE)),
        ("absent", Found(ALICE), Delete(ALICE)),
        ("absent", Absent(), AlreadyAbsent()),
        ("present", Ambiguous((ALICE, ALICE)), Ambiguous((ALICE, ALICE))),
        ("absent", Ambiguous((ALICE, ALICE)), Ambiguous((ALICE, ALICE))),
        ("present", Unobserved(UNKNOWN), Unobserved(UNKNOWN)),
        ("absent", Unobserved(UNKNOWN), Unobserved(UNKNOWN)),
    ],
)
def test_the_step_follows_from_ensure_and_what_the_key_found(
    ensure: Ensure, found: Match[Seen], expected: Step[Seen]
) -> None:
    assert step(ensure, found) == expected
    assert Matched(Wanted("alice@x.com", ensure), "alice@x.com", found).step == expected


# --- comparing the fields of an object found --------------------------------------------------


def test_compare_fields_skips_undeclared_fields_and_forgives_what_the_comparison_forgives() -> None:
    diff = compare_fields(
        "id-1",
        [
            ("displayName", "Alice  Smith", "Alice Smith", norm.text),  # whitespace: no change
            ("jobTitle", "Director", "Manager", norm.text),
            ("department", None, "Sales", norm.text),  # not declared: not managed
            ("mailNickname", "ALICE", "alice", norm.caseless),
            ("surname", "Smith", None, norm.text),
        ],
    )
    assert diff.desired == {
        "displayName": "Alice  Smith",
        "jobTitle": "Director",
        "mailNickname": "ALICE",
        "surname": "Smith",
    }
    assert diff.observed == {
        "id": "id-1",
        "displayName": "Alice Smith",
        "jobTitle": "Manager",
        "mailNickname": "alice",
        "surname": None,
    }
    assert diff.changes == [
        FieldChange(field="jobTitle", before="Manager", after="Director"),
        FieldChange(field="surname", before=None, after="Smith"),
    ]


def test_compare_fields_with_nothing_declared_has_only_the_id() -> None:
    assert compare_fields("id-1", [("displayName", None, "A", norm.text)]) == (
        {},
        {"id": "id-1"},
        [],
    )


# --- properties --------------------------------------------------------------------------------

# A small alphabet, so that generated keys often collide and often differ only in case.
KEYS = st.text(alphabet="aAbB@", min_size=1, max_size=3)


@st.composite
def observed_objects(draw: st.DrawFn) -> list[Seen]:
    addresses = draw(st.lists(st.one_of(KEYS, st.none()), max_size=8))
    return [Seen(str(i), address) for i, address in enumerate(addresses)]


def _recase(data: st.DataObject, text: str) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


def _ids(found: object) -> object:
    """What a key found, by object id (recased objects are other values with the same ids)."""
    if isinstance(found, Found):
        return ("found", found.observed.id)
    if isinstance(found, Ambiguous):
        return ("ambiguous", tuple(o.id for o in found.candidates))
    return found


@given(observed_objects(), KEYS, st.data())
def test_case_never_changes_what_a_key_finds(
    objects: list[Seen], key: str, data: st.DataObject
) -> None:
    recased = [Seen(o.id, None if o.address is None else _recase(data, o.address)) for o in objects]
    expected = _ids(inventory(objects, _address).match(key))
    assert _ids(inventory(recased, _address).match(key)) == expected
    assert _ids(inventory(objects, _address).match(_recase(data, key))) == expected


@given(observed_objects(), KEYS)
def test_ambiguous_exactly_when_two_or_more_objects_share_the_key(
    objects: list[Seen], key: str
) -> None:
    sharing = tuple(
        o for o in objects if o.address is not None and o.address.lower() == key.lower()
    )
    found = inventory(objects, _address).match(key)
    if len(sharing) > 1:
        assert found == Ambiguous(sharing)
    elif sharing:
        assert found == Found(sharing[0])
    else:
        assert found == Absent()


@given(st.lists(KEYS, unique_by=str.lower, max_size=6), observed_objects(), st.data())
def test_the_order_of_the_declared_objects_changes_nothing(
    keys: list[str], objects: list[Seen], data: st.DataObject
) -> None:
    declared = [Wanted(k) for k in keys]
    shuffled = data.draw(st.permutations(declared))
    seen = inventory(objects, _address)
    matched = match_declared(declared, _wanted, seen)
    assert match_declared(shuffled, _wanted, seen) == matched
    assert [m.key for m in matched] == sorted(k.lower() for k in keys)
    assert sorted(m.declared.address for m in matched) == sorted(keys)


@given(observed_objects(), KEYS, st.data())
def test_the_order_observed_changes_only_the_order_of_the_candidates(
    objects: list[Seen], key: str, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(objects))

    def by_id(found: object) -> object:
        if isinstance(found, Ambiguous):
            return ("ambiguous", sorted(o.id for o in found.candidates))
        return found

    before, after = inventory(objects, _address), inventory(shuffled, _address)
    assert by_id(after.match(key)) == by_id(before.match(key))
    assert sorted(after.by_key) == sorted(before.by_key)
