"""The one slug function for tenant names, by its properties: whatever the display name and
the names already taken, the result is a valid tenant name that is not taken; accents,
Unicode normal forms and ASCII case do not change it; a slug is its own slug; and
``discover`` and ``import`` agree because both call it."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from controller.models.common import Slug
from controller.models.naming import MAX_NAME, tenant_slug, transliterate

SLUG: TypeAdapter[str] = TypeAdapter(Slug)
TENANT_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"

names = st.text(max_size=120)
ascii_names = st.text(alphabet=string.ascii_letters + string.digits + " .,&-_'()", max_size=120)
taken_names = st.sets(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True))
combining_marks = st.sampled_from(["\u0300", "\u0301", "\u0302", "\u0308", "\u030a", "\u0327"])


def _valid(name: str) -> bool:
    try:
        SLUG.validate_python(name)
    except ValidationError:
        return False
    return True


@given(names, taken_names)
def test_the_result_is_a_valid_tenant_name_that_is_not_taken(name: str, taken: set[str]) -> None:
    slug = tenant_slug(name, taken, TENANT_ID)
    assert _valid(slug), slug
    assert len(slug) <= MAX_NAME
    assert slug not in taken


@given(names)
def test_normal_forms_do_not_change_the_name(name: str) -> None:
    forms = {unicodedata.normalize(form, name) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    assert {tenant_slug(form) for form in forms} == {tenant_slug(name)}


@given(st.lists(st.tuples(st.sampled_from(string.ascii_letters + " "), combining_marks)))
def test_accents_are_dropped_not_turned_into_separators(letters: list[tuple[str, str]]) -> None:
    plain = "".join(letter for letter, _ in letters)
    accented = "".join(letter + (mark if letter != " " else "") for letter, mark in letters)
    assert tenant_slug(accented) == tenant_slug(plain)


@given(ascii_names)
def test_ascii_case_does_not_change_the_name(name: str) -> None:
    assert tenant_slug(name.upper()) == tenant_slug(name.lower()) == tenant_slug(name)


@given(names)
def test_a_slug_is_its_own_slug(name: str) -> None:
    slug = tenant_slug(name)
    assert tenant_slug(slug) == slug


@given(names, taken_names)
def test_the_same_inputs_give_the_same_name(name: str, taken: set[str]) -> None:
    assert tenant_slug(name, taken) == tenant_slug(name, set(taken))


@pytest.mark.parametrize(
    ("display_name", "slug"),
    [
        ("Müller GmbH", "muller"),
        ("Müller & Söhne GmbH", "muller-sohne"),
        ("Ørsted AS", "orsted"),
        ("Straße der Pariser Kommune AG", "strasse-der-pariser-kommune"),
        ("Łódź Æther Œuvre", "lodz-aether-oeuvre"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "Fullwidth") + " Corp", "fullwidth"),
        ("株式会社", "tenant-1a2b3c4d"),
    ],
)
def test_letters_are_transliterated(display_name: str, slug: str) -> None:
    assert tenant_slug(display_name, tenant_id=TENANT_ID) == slug


def test_a_long_name_is_cut_at_a_word_boundary() -> None:
    name = "Northwind Traders International Holdings Consolidated Worldwide Group Company"
    assert tenant_slug(name) == "northwind-traders-international-holdings-consolidated-worldwide"
    assert tenant_slug("x" * 80, {"x" * 63}) == "x" * 61 + "-2"


def test_transliterate_keeps_what_it_cannot_spell() -> None:
    assert transliterate("Çà Δ") == "ca δ"
