"""Reading YAML: syntax errors, duplicate keys, documents that are not one mapping, headers,
tags, anchors, the YAML 1.2 core schema, and files that cannot be read at all.

Every problem comes back as ``file:line:col: path: message``; nothing raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.loader.source import MAX_EXPANDED_NODES, parse_yaml
from tests.unit.desired_files import MSP, TENANT, load, tenant, validate

FILE = "desired/tenants/contoso.yaml"


def only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    return validate(tmp_path, monkeypatch, {"contoso": text})


# --- syntax -------------------------------------------------------------------------------


def test_syntax_error_is_located_with_where_the_construct_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("domains: [contoso.com]", "domains: [contoso.com\n  x: 1")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:7:4: did not find expected ',' or ']' while parsing a flow sequence "
        "(line 6, column 12)"
    ]


def test_unclosed_quote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("displayName: Alice", 'displayName: "Alice')
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:1: found unexpected end of stream while scanning a quoted scalar "
        "(line 11, column 20)"
    ]


def test_tab_indentation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("  exchange: direct", "\texchange: direct")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:8:1: found character that cannot start any token while scanning for the next token"
    ]


# --- duplicate keys -------------------------------------------------------------------------


def test_duplicate_key_at_the_top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT + "kind: Tenant\n"
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:1: kind: duplicate key 'kind' (first at line 2); YAML would keep only "
        "the last one: remove or rename one of them"
    ]


def test_duplicate_key_deep_inside_names_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        users:
          - userPrincipalName: alice@contoso.com
            displayName: Alice
          - userPrincipalName: bob@contoso.com
            displayName: Bob
            displayName: Robert
        """
    )
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:13:7: spec.users[1].displayName: duplicate key 'displayName' (first at "
        "line 12); YAML would keep only the last one: remove or rename one of them"
    ]


def test_every_duplicate_key_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(spec="exchange: direct\nexchange: none\nconsent: granted\nconsent: granted")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:9:3: spec.exchange: duplicate key 'exchange' (first at line 8); YAML would "
        "keep only the last one: remove or rename one of them",
        f"{FILE}:11:3: spec.consent: duplicate key 'consent' (first at line 10); YAML would "
        "keep only the last one: remove or rename one of them",
    ]


def test_a_list_as_a_key_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT + "? [a, b]\n: c\n"
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:3: a mapping key must be a plain value"
    ]


# --- the document -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("---\n", "empty"),
        ("- a\n- b\n", "a list"),
        ("contoso\n", "a string"),
        ("42\n", "a number"),
        ("true\n", "true/false"),
    ],
)
def test_a_document_that_is_not_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, what: str
) -> None:
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:1:1: the document is {what}; expected a mapping with apiVersion, kind, "
        "metadata and spec"
    ]


def test_more_than_one_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT + "---\n" + TENANT
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:1: the file holds more than one YAML document (---); use one file per tenant"
    ]


def test_wrong_kind_and_api_version_are_both_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("tenantctl/v1", "tenantctl/v2").replace("kind: Tenant", "kind: MSP")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:1:13: apiVersion: apiVersion must be 'tenantctl/v1', not 'tenantctl/v2'",
        f"{FILE}:2:7: kind: kind must be 'Tenant' in this file, not 'MSP'",
    ]


def test_missing_kind_and_api_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("apiVersion: tenantctl/v1\nkind: Tenant\n", "")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:1:1: apiVersion: apiVersion must be 'tenantctl/v1' (missing)",
        f"{FILE}:1:1: kind: kind must be 'Tenant' in this file (missing)",
    ]


def test_a_tenant_file_in_place_of_msp_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}, msp=TENANT) == [
        "desired/msp.yaml:2:7: kind: kind must be 'MSP' in this file, not 'Tenant'"
    ]


def test_missing_msp_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}, msp=None) == [
        "desired/msp.yaml:1:1: missing: every desired state needs msp.yaml"
    ]


# --- tags, anchors, types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!secret abc", "!secret"),
        ("!!python/object:os.system x", "!!python/object:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!timestamp 2026-01-01", "!!timestamp"),
        ("!!set {a}", "!!set"),
    ],
)
def test_unsupported_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, shown: str
) -> None:
    text = TENANT.replace("displayName: Alice", f"displayName: {value}")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:20: unsupported YAML tag '{shown}': tenantctl files hold plain strings, "
        "numbers, true/false, null, lists and mappings"
    ]


def test_explicit_tag_must_spell_its_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("exchange: direct", "exchange: direct\n  consent: !!bool yes")
    assert only(tmp_path, monkeypatch, text) == [f"{FILE}:9:12: 'yes' is not a valid bool"]


def test_yaml_12_core_schema_keeps_norway_and_dates_as_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        users:
          - userPrincipalName: ivan@contoso.com
            displayName: no
            jobTitle: yes
            department: 2026-01-01
            usageLocation: NO
            accountEnabled: false
        """
    )
    state, problems = load(tmp_path, monkeypatch, {"contoso": text})
    assert problems == []
    assert state is not None
    user = state.tenant("contoso").spec.users[0]
    assert (user.display_name, user.job_title, user.department) == ("no", "yes", "2026-01-01")
    assert (user.usage_location, user.account_enabled) == ("NO", False)


def test_a_number_where_text_is_expected_says_to_quote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("displayName: Alice", "displayName: 1234")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:20: spec.users[0].displayName: Input should be a valid string (YAML read "
        "a number or true/false here: put it in quotes)"
    ]


def test_anchors_and_merge_keys_share_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        users:
          - &staff
            userPrincipalName: alice@contoso.com
            displayName: Staff member
            usageLocation: NO
            licenses: [SPE_E3]
          - <<: *staff
            userPrincipalName: bob@contoso.com
        """
    )
    state, problems = load(tmp_path, monkeypatch, {"contoso": text})
    assert problems == []
    assert state is not None
    bob = state.tenant("contoso").spec.users[1]
    assert (bob.user_principal_name, bob.usage_location, bob.licenses) == (
        "bob@contoso.com",
        "NO",
        ["SPE_E3"],
    )


def test_an_error_in_a_merged_key_points_into_the_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        users:
          - &staff
            userPrincipalName: alice@contoso.com
            displayName: Staff member
            usageLocation: XX
          - <<: *staff
            userPrincipalName: bob@contoso.com
        """
    )
    message = "'XX' is not an ISO 3166 alpha-2 country code (e.g. US, GB, DE)"
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:22: spec.users[0].usageLocation: {message}",
        f"{FILE}:12:22: spec.users[1].usageLocation: {message}",
    ]


def test_merge_of_something_else_than_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("displayName: Alice", "displayName: Alice\n      <<: [a]")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:7: << (merge) needs a mapping or a list of mappings"
    ]


def test_undefined_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("displayName: Alice", "displayName: *name")
    assert only(tmp_path, monkeypatch, text) == [f"{FILE}:11:20: found undefined alias 'name'"]


def test_recursive_alias() -> None:
    source = parse_yaml("spec: &loop\n  users: [*loop]\n", "t.yaml")
    assert [str(d) for d in source.diagnostics] == [
        "t.yaml:2:11: alias *loop refers to a node that contains it"
    ]


def test_alias_bomb_is_refused_before_anything_walks_it() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    source = parse_yaml("\n".join(lines) + "\n", "t.yaml")
    assert source.data is None
    assert [str(d) for d in source.diagnostics] == [
        f"t.yaml:1:1: aliases expand this document past {MAX_EXPANDED_NODES:,} values"
    ]


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("a: 0o17\nb: 0x1F\nc: 0777\nd: -12\ne: +3", {"a": 15, "b": 31, "c": 777, "d": -12, "e": 3}),
        ("a: 1.5\nb: .inf\nc: -.Inf\nd: 1e3", {"a": 1.5, "b": float("inf"), "c": -float("inf"), "d": 1000.0}),
        ("a: ~\nb: null\nc:\nd: Null", {"a": None, "b": None, "c": None, "d": None}),
        ("a: True\nb: FALSE\nc: yes\nd: off\ne: y", {"a": True, "b": False, "c": "yes", "d": "off", "e": "y"}),
        ("a: 1_000\nb: 1:30\nc: 2026-12-31\nd: '12'\ne: ! 12", {"a": "1_000", "b": "1:30", "c": "2026-12-31", "d": "12", "e": "12"}),
        ("a: !!str 12\nb: !!int '7'\nc: !!float '2'\nd: !!null ''", {"a": "12", "b": 7, "c": 2.0, "d": None}),
    ],
)  # fmt: skip
def test_scalars_follow_the_yaml_12_core_schema(text: str, data: dict[str, object]) -> None:
    source = parse_yaml(text + "\n", "t.yaml")
    assert source.diagnostics == []
    assert source.data == data


def test_an_enormous_integer_is_an_error_not_a_crash() -> None:
    source = parse_yaml("a: " + "9" * 5000 + "\n", "t.yaml")
    assert [str(d) for d in source.diagnostics] == [
        "t.yaml:1:4: '9999999999999999999999999999999999999...' is not a valid int"
    ]


# --- files that cannot be read --------------------------------------------------------------


def test_a_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desired = tmp_path / "desired" / "tenants"
    desired.mkdir(parents=True)
    (desired / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}) == [
        "desired/tenants/binary.yaml:1:1: not UTF-8 text (invalid start byte)"
    ]


def test_control_characters_are_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("displayName: Alice", "displayName: Al\x00ice")
    assert only(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:22: character #x0000 is not allowed in YAML"
    ]


def test_a_directory_named_like_a_tenant_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "desired" / "tenants" / "folder.yaml").mkdir(parents=True)
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}) == [
        "desired/tenants/folder.yaml:1:1: is a directory, not a regular file"
    ]


def test_yml_files_are_read_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "desired" / "tenants").mkdir(parents=True)
    (tmp_path / "desired" / "tenants" / "fabrikam.yml").write_text("[]\n")
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}, msp=MSP) == [
        "desired/tenants/fabrikam.yml:1:1: the document is a list; expected a mapping with "
        "apiVersion, kind, metadata and spec"
    ]
