"""``tenantctl get`` for people: aligned columns with the GIT column, ``-o wide`` adding
columns, notes under the table that tell "none there" from "could not be read" (with the
reason), ``-q`` names, and text from a tenant that cannot move the cursor or fake a row."""

from __future__ import annotations

import dataclasses

from controller.models.declared import Declarations, estate_declarations
from controller.models.observed import ObservedTenant
from controller.render.get import declared_cell, render_get_names, render_get_table
from controller.render.inventory import get_document
from tests.fixtures.demo_observed import demo_desired, demo_observed
from tests.plan.factories import user


def _demo() -> list[tuple[ObservedTenant, Declarations]]:
    state = demo_desired()
    observed = demo_observed(state)
    declared = estate_declarations(state)
    return [(observed[name], declared[name]) for name in sorted(observed)]


def test_the_table_has_a_git_column_and_notes_for_what_is_missing_or_unknown() -> None:
    text = render_get_table(get_document("users", _demo()))
    lines = text.splitlines()
    assert lines[0].split() == ["TENANT", "USER", "ENABLED", "LICENCES", "MFA", "RISK", "GIT"]
    alice = next(line for line in lines if "alice@contoso.com" in line)
    assert alice.split() == [
        "contoso",
        "alice@contoso.com",
        "yes",
        "POWER_BI_PRO,SPE_E3",
        "registered",
        "none",
        "desired/tenants/contoso.yaml:18",
    ]
    assert any("temp.contractor" in line and line.endswith(":39 absent") for line in lines)
    assert "adatum: users unknown (consentMissing): " in text
    assert "woodgrove: mfa unknown (needsLicence): the tenant has no Entra ID P1/P2" in text
    assert "No users in adatum." not in text  # unknown, not empty


def test_a_tenant_with_none_says_so() -> None:
    pairs = _demo()
    text = render_get_table(get_document("groups", pairs))
    assert "No groups in tailspin." in text
    members = render_get_table(get_document("members", pairs, group="sales"))
    assert "fabrikam: no group named sales" in members


def test_wide_adds_columns() -> None:
    document = get_document("shared-mailboxes", _demo())
    narrow = render_get_table(document).splitlines()[0].split("  ")
    wide = render_get_table(document, wide=True).splitlines()[0]
    assert "ID" not in [c.strip() for c in narrow]
    assert "DISPLAY NAME" in wide and wide.rstrip().endswith("ID")


def test_quiet_names_one_object_per_line() -> None:
    names = render_get_names(get_document("distribution-groups", _demo())).splitlines()
    assert names == ["contoso/allstaff@contoso.com", "fabrikam/newsletter@fabrikam.com"]


def test_text_from_a_tenant_cannot_move_the_cursor_or_fake_a_row() -> None:
    pairs = _demo()
    seen, declared = pairs[1]
    hostile = user(
        "mallory@contoso.com",
        display_name="Mallory\x1b[2J\ncontoso  ceo@contoso.com  yes\u202e",
    )
    assert isinstance(seen.users, tuple)
    pairs[1] = (dataclasses.replace(seen, users=(*seen.users, hostile)), declared)
    text = render_get_table(get_document("users", pairs), wide=True)
    assert "\x1b" not in text and "\u202e" not in text
    (row,) = [line for line in text.splitlines() if "mallory" in line]
    assert "Mallory\\u001b[2J\\ncontoso  ceo@contoso.com  yes\\u202e" in row


def test_the_git_cell() -> None:
    assert declared_cell(None) == "no"
    document = get_document("users", _demo())
    declared = next(i.declared for i in document.items if i.declared and i.declared.profile is None)
    assert declared is not None
    assert declared_cell(declared) == f"{declared.file}:{declared.line}"
