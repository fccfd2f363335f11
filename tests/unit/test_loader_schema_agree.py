"""The loader and the JSON Schemas in ``schemas/`` give every value the same verdict.

Each value of a corpus is written, as YAML text, at one field of a valid ``msp.yaml``, tenant
file or profile, read through the loader's YAML path (``parse_yaml``), and judged twice: by the
models, as ``tenantctl validate`` judges it, and by the JSON Schema, as check-jsonschema
judges it in CI (with its format checks and ECMA-262 patterns, as an editor reads them). Both
must accept it or both reject it.

The corpus: every value a new user found that the loader accepted while the schema and the
README rejected it (``yes``, ``off``, ``n``, ``1`` and ``"false"`` as booleans, ``true`` as a
count, ``{file: ""}``, a moment without a time zone, the nil GUID, credentials in a URL), each
with valid counterparts; and values hypothesis generates for the boolean, count, GUID, URL,
date-or-moment, secret-path and label fields.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from check_jsonschema.formats import FormatOptions
from check_jsonschema.regex_variants import RegexImplementation, RegexVariantName
from check_jsonschema.schema_loader import SchemaLoader
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from controller.loader.shape import KINDS, check_header, validate_model
from controller.loader.source import parse_yaml

REPO = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Block style only: a generated plain scalar may hold `,`, `}` or `]`, which would end a
# flow collection early.
MSP_TEMPLATE = string.Template("""\
apiVersion: tenantctl/v1
kind: MSP
metadata:
  name: test-msp
spec:
  endpoints:
    graph: $graph_endpoint
  partner:
    tenantId: $partner_tenant_id
    clientId: $partner_client_id
    credential:
      secret: $partner_secret
  cipp:
    baseUrl: $cipp_base_url
    tenantId: $cipp_tenant_id
    clientId: $cipp_client_id
    secret:
      file: $cipp_secret_file
  policy:
    guards:
      maxDeletions: $max_deletions
  defaults:
    forceChangePasswordNextSignIn: $force_change_password
""")

TENANT_TEMPLATE = string.Template("""\
apiVersion: tenantctl/v1
kind: Tenant
metadata:
  name: contoso
  tenantId: $tenant_id
  domains:
    - contoso.com
  labels:
    tier: $tenant_label
spec:
  users:
    - userPrincipalName: alice@contoso.com
      displayName: Alice
      accountEnabled: $account_enabled
  actions:
    - id: reset-alice
      notAfter: $not_after
      resetPassword:
        user: alice@contoso.com
        forceChangeAtNextSignIn: $force_change_at_next_sign_in
  policy:
    guards:
      maxMemberRemovals: $max_member_removals
""")

PROFILE_TEMPLATE = string.Template("""\
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: standard
selector:
  matchLabels:
    tier: $selector_label
spec:
  users:
    - userPrincipalName: breakglass@example.com
      displayName: Break Glass
      accountEnabled: $profile_account_enabled
  policy:
    guards:
      maxDeletions: $profile_max_deletions
""")

TEMPLATES = {"MSP": MSP_TEMPLATE, "Tenant": TENANT_TEMPLATE, "Profile": PROFILE_TEMPLATE}

VALID = {
    "graph_endpoint": "https://graph.microsoft.com",
    "partner_tenant_id": "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21",
    "partner_client_id": "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f",
    "partner_secret": "{env: TENANTCTL_CLIENT_SECRET}",
    "cipp_base_url": "https://cipp.example.com",
    "cipp_tenant_id": "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21",
    "cipp_client_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
    "cipp_secret_file": "/run/secrets/cipp",
    "max_deletions": "5",
    "force_change_password": "true",
    "tenant_id": "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
    "account_enabled": "true",
    "not_after": "2026-12-31",
    "force_change_at_next_sign_in": "true",
    "max_member_removals": "25",
    "tenant_label": "gold",
    "selector_label": "gold",
    "profile_account_enabled": "true",
    "profile_max_deletions": "3",
}


@dataclass(frozen=True)
class Field:
    placeholder: str
    kind: str  # MSP, Tenant or Profile
    path: tuple[str | int, ...]

    def document(self, scalar: str) -> str:
        return TEMPLATES[self.kind].substitute({**VALID, self.placeholder: scalar})


def _msp(placeholder: str, *path: str | int) -> Field:
    return Field(placeholder, "MSP", path)


def _tenant(placeholder: str, *path: str | int) -> Field:
    return Field(placeholder, "Tenant", path)


def _profile(placeholder: str, *path: str | int) -> Field:
    return Field(placeholder, "Profile", path)


BOOLEAN = [
    _tenant("account_enabled", "spec", "users", 0, "accountEnabled"),
    _profile("profile_account_enabled", "spec", "users", 0, "accountEnabled"),
    _tenant("force_change_at_next_sign_in", "spec", "actions", 0, "resetPassword",
            "forceChangeAtNextSignIn"),
    _msp("force_change_password", "spec", "defaults", "forceChangePasswordNextSignIn"),
]  # fmt: skip
COUNT = [
    _msp("max_deletions", "spec", "policy", "guards", "maxDeletions"),
    _tenant("max_member_removals", "spec", "policy", "guards", "maxMemberRemovals"),
    _profile("profile_max_deletions", "spec", "policy", "guards", "maxDeletions"),
]
GUID = [
    _msp("partner_tenant_id", "spec", "partner", "tenantId"),
    _msp("partner_client_id", "spec", "partner", "clientId"),
    _msp("cipp_tenant_id", "spec", "cipp", "tenantId"),
    _msp("cipp_client_id", "spec", "cipp", "clientId"),
    _tenant("tenant_id", "metadata", "tenantId"),
]
URL = [
    _msp("cipp_base_url", "spec", "cipp", "baseUrl"),
    _msp("graph_endpoint", "spec", "endpoints", "graph"),
]
MOMENT = [_tenant("not_after", "spec", "actions", 0, "notAfter")]
SECRET_PATH = [_msp("cipp_secret_file", "spec", "cipp", "secret", "file")]
SECRET_REF = [_msp("partner_secret", "spec", "partner", "credential", "secret")]
LABEL = [
    _tenant("tenant_label", "metadata", "labels", "tier"),
    _profile("selector_label", "selector", "matchLabels", "tier"),
]


# --- the two judges ---------------------------------------------------------------------------


@functools.cache
def schema_validator(kind: str) -> jsonschema.protocols.Validator:
    """The validator `check-jsonschema --schemafile schemas/<kind>.schema.json` builds."""
    schema = REPO / "schemas" / f"{kind.lower()}.schema.json"
    regex = RegexImplementation(RegexVariantName.default)  # ECMA-262, as editors read patterns
    return SchemaLoader(str(schema)).get_validator(
        schema, {}, FormatOptions(regex_impl=regex), regex, False
    )


@dataclass
class Verdicts:
    value: Any  # what the YAML reading made of the scalar
    loader: list[str]
    schema: list[str]

    def agree(self) -> bool:
        return bool(self.loader) == bool(self.schema)

    def explain(self) -> str:
        return (
            f"value {self.value!r}: loader says {self.loader or 'valid'}, "
            f"schema says {self.schema or 'valid'}"
        )


def judge(field: Field, scalar: str) -> Verdicts | None:
    """Both verdicts on ``scalar`` written at ``field``; None when the text is no YAML at all
    (then there is no data for the schema to judge)."""
    source = parse_yaml(field.document(scalar), f"{field.kind.lower()}.yaml")
    if source.diagnostics:
        return None
    value: Any = source.data
    for key in field.path:
        value = value[key] if isinstance(value, dict | list) else None
    problems = check_header(source, field.kind) or validate_model(source, KINDS[field.kind])[1]
    schema = [error.message for error in schema_validator(field.kind).iter_errors(source.data)]
    return Verdicts(value, [str(p) for p in problems], schema)


def assert_agree(field: Field, scalar: str) -> None:
    verdicts = judge(field, scalar)
    assume(verdicts is not None)
    assert verdicts is not None
    event("both reject" if verdicts.schema else "both accept")  # --hypothesis-show-statistics
    assert verdicts.agree(), f"{field.placeholder}: {scalar!r} -> {verdicts.explain()}"


def test_the_templates_are_valid_for_both() -> None:
    for field in BOOLEAN + COUNT + GUID + URL + MOMENT + SECRET_PATH + SECRET_REF + LABEL:
        verdicts = judge(field, VALID[field.placeholder])
        assert verdicts is not None
        alone = parse_yaml(f"value: {VALID[field.placeholder]}\n", "alone.yaml").data["value"]
        assert verdicts.value == alone, field  # the field's path leads to the placeholder
        assert (verdicts.loader, verdicts.schema) == ([], []), field


# --- the corpus ---------------------------------------------------------------------------------

# (fields, YAML text of the value, valid?). Every value the loader used to accept although
# the schema rejected it is here with False.
CORPUS: list[tuple[list[Field], str, bool]] = [
    # Booleans: YAML 1.2 core, as the README says; pydantic's lax mode took all the falses.
    (BOOLEAN, "true", True),
    (BOOLEAN, "false", True),
    (BOOLEAN, "True", True),
    (BOOLEAN, "FALSE", True),
    (BOOLEAN, "yes", False),
    (BOOLEAN, "no", False),
    (BOOLEAN, "on", False),
    (BOOLEAN, "off", False),
    (BOOLEAN, "y", False),
    (BOOLEAN, "n", False),
    (BOOLEAN, "1", False),
    (BOOLEAN, "0", False),
    (BOOLEAN, '"false"', False),
    (BOOLEAN, "'true'", False),
    (BOOLEAN, "1.0", False),
    (BOOLEAN[:2], "~", True),  # accountEnabled: null is "unmanaged"
    (BOOLEAN[2:], "~", False),
    # Counts: JSON Schema's integer (5.0 is one; true and "3" are not), at least 0.
    (COUNT, "0", True),
    (COUNT, "5", True),
    (COUNT, "0x1F", True),
    (COUNT, "017", True),
    (COUNT, "5.0", True),
    (COUNT, "1e2", True),
    (COUNT, "~", True),
    (COUNT, "true", False),
    (COUNT, "false", False),
    (COUNT, '"3"', False),
    (COUNT, "'5'", False),
    (COUNT, "-1", False),
    (COUNT, "3.5", False),
    (COUNT, ".inf", False),
    (COUNT, ".nan", False),
    (COUNT, "five", False),
    # GUIDs: 8-4-4-4-12 hex digits, never the nil GUID, never padded.
    (GUID, "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", True),
    (GUID, "6F1C0D4E-2A3B-4C5D-8E9F-0A1B2C3D4E5F", True),
    (GUID, "00000000-0000-0000-0000-000000000001", True),
    (GUID, "00000000-0000-0000-0000-000000000000", False),
    (GUID, '"00000000-0000-0000-0000-000000000000"', False),
    (GUID, "6f1c0d4e2a3b4c5d8e9f0a1b2c3d4e5f", False),
    (GUID, '"{6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f}"', False),
    (GUID, '" 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"', False),
    (GUID, '"6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f\\n"', False),
    (GUID, "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5", False),
    (GUID, "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5g", False),
    (GUID, "12345", False),
    # https URLs: no user name or password before the host.
    (URL, "https://cipp.example.com", True),
    (URL, "https://cipp.example.com/", True),
    (URL, "https://cipp.example.com/api?x=1#top", True),
    (URL, "https://127.0.0.1:8443", True),
    (URL, "'https://[::1]:8443/'", True),
    (URL, "https://cipp.example.com/path@with-an-at", True),
    (URL, "https://user:pass@cipp.example.com", False),
    (URL, "https://user@cipp.example.com", False),
    (URL, "https://:pass@cipp.example.com/api", False),
    (URL, "https://user:pass@cipp.example.com:443/api", False),
    (URL, "http://cipp.example.com", False),
    (URL, "HTTPS://cipp.example.com", False),
    (URL, "https://", False),
    (URL, "https://cipp.example.com:port", False),
    (URL, "'https://cipp.example.com '", False),
    (URL, "https://cipp.example.com/a b", False),
    (URL, "ftp://cipp.example.com", False),
    # A date, or a moment with its time zone (RFC 3339).
    (MOMENT, "2026-12-31", True),
    (MOMENT, "2028-02-29", True),
    (MOMENT, "2026-12-31T08:00:00Z", True),
    (MOMENT, "2026-12-31t08:00:00z", True),
    (MOMENT, "2026-12-31T08:00:00+01:00", True),
    (MOMENT, "2026-12-31T08:00:00-00:00", True),
    (MOMENT, "2026-12-31T08:00:00.123456789+05:30", True),
    (MOMENT, "~", True),
    (MOMENT, "2026-12-31T08:00:00", False),
    (MOMENT, "2026-12-31T08:00:00.5", False),
    (MOMENT, "'2026-12-31 08:00:00'", False),
    (MOMENT, "2026-12-31T08:00Z", False),
    (MOMENT, "2026-12-31T08:00:00+0100", False),
    (MOMENT, "2026-12-31T24:00:00Z", False),
    (MOMENT, "2026-02-30", False),
    (MOMENT, "2027-02-29T00:00:00Z", False),
    (MOMENT, "0000-01-01", False),
    (MOMENT, "2026-1-5", False),
    (MOMENT, "1767168000", False),
    (MOMENT, "someday", False),
    # A secret file: any path but the empty one, taken as written.
    (SECRET_PATH, "/run/secrets/cipp", True),
    (SECRET_PATH, "'secrets/cipp client'", True),
    (SECRET_PATH, '""', False),
    (SECRET_PATH, "''", False),
    (SECRET_PATH, "~", False),
    (SECRET_PATH, "5", False),
    # A secret reference: exactly one of env and file, never the secret itself.
    (SECRET_REF, "{env: A}", True),
    (SECRET_REF, "{file: /run/secrets/partner}", True),
    (SECRET_REF, "{env: null, file: /run/secrets/partner}", True),
    (SECRET_REF, "{}", False),
    (SECRET_REF, "{env: A, file: /run/secrets/partner}", False),
    (SECRET_REF, "{env: null}", False),
    (SECRET_REF, "{env: ''}", False),
    (SECRET_REF, "{env: 1A}", False),
    (SECRET_REF, "{env: 'A '}", False),
    (SECRET_REF, "{value: s3cr3t}", False),
    (SECRET_REF, "s3cr3t", False),
    # A label value: Kubernetes' spelling, text only (an empty one too).
    (LABEL, "gold", True),
    (LABEL, "''", True),
    (LABEL, "a.b-c_D9", True),
    (LABEL, "x" * 63, True),
    (LABEL, "x" * 64, False),
    (LABEL, "'-gold'", False),
    (LABEL, "gold-", False),
    (LABEL, "'has space'", False),
    (LABEL, "1", False),
    (LABEL, "true", False),
    (LABEL, "~", False),
    (LABEL, "'gold '", False),
]


@pytest.mark.parametrize(
    ("field", "scalar", "valid"),
    [(field, scalar, valid) for fields, scalar, valid in CORPUS for field in fields],
    ids=lambda v: v.placeholder if isinstance(v, Field) else None,
)
def test_the_corpus_gets_one_verdict(field: Field, scalar: str, valid: bool) -> None:
    verdicts = judge(field, scalar)
    assert verdicts is not None, "the corpus holds YAML only"
    assert verdicts.agree(), verdicts.explain()
    assert (not verdicts.loader) is valid, verdicts.explain()


# --- generated values ---------------------------------------------------------------------------

# What a YAML 1.1 reader, a spreadsheet or a hurried hand may put in any field.
TRAPS = st.sampled_from(
    [
        "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "OFF", "true", "True", "TRUE",
        "false", "tRUE", "~", "null", "Null", "NULL", "''", '""', "0", "1", "-1", "+1", "-0",
        "0x1F", "0o17", "017", "1_000", "1e3", "1.0", ".5", "5.", ".inf", "-.inf", ".nan",
        "1:30", "2026-12-31", "12e", "[]", "{}", "[1]", "{a: 1}",
    ]
)  # fmt: skip
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# No surrogates: json.dumps would write a pair as two escapes, which YAML reads one by one.
ANY_TEXT = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=40)


def as_yaml(text: str) -> st.SearchStrategy[str]:
    """``text`` written plainly (if it is printable ASCII, so fits on a line) or double-quoted."""
    if text and text.isprintable() and text.isascii():
        return st.sampled_from([text, json.dumps(text)])
    return st.just(json.dumps(text))


def written(strings: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strings.flatmap(as_yaml)


NUMBERS = st.one_of(
    st.integers().map(str),
    st.floats().map(
        lambda f: {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}.get(repr(f), repr(f))
    ),
)
ANY_SCALAR = st.one_of(TRAPS, NUMBERS, written(st.text(PRINTABLE, max_size=30)), written(ANY_TEXT))


def spelling(draw: st.DrawFn) -> Callable[[st.SearchStrategy[Any], st.SearchStrategy[Any]], Any]:
    """Draws each part of a value the usual way, or (for half of the values) either way: so
    that as many generated values are valid as are not, and the invalid ones are near misses."""
    broken = draw(st.booleans())

    def part(usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any]) -> Any:
        return draw(st.one_of(usual, unusual) if broken else usual)

    return part


def padded(strings: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Near misses: the string, changed at its ends or in its case."""
    return st.tuples(
        strings,
        st.sampled_from(["", " ", "\n", "\t", "x", "0", "@", "/"]),
        st.sampled_from(["", " ", "\n", "x", "0", "{"]),
        st.sampled_from([str, str.upper, str.lower, str.swapcase]),
    ).map(lambda t: t[3](t[2] + t[0] + t[1]))


GUIDS = st.one_of(
    st.uuids().map(str),
    st.from_regex(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", fullmatch=True),
    st.from_regex(r"[0-9a-gA-G-]{30,40}", fullmatch=True),
    st.sampled_from(
        ["00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}"]
    ),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: f"{{{u}}}"),
    st.uuids().map(lambda u: u.urn),
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    part = spelling(draw)
    scheme = part(st.just("https://"), st.sampled_from(["http://", "HTTPS://", "https:/", ""]))
    userinfo = part(
        st.just(""),
        st.from_regex(r"[A-Za-z0-9%._~!$&'()*+,;=-]{0,8}(:[!-~]{0,8})?@", fullmatch=True),
    )
    host = part(
        st.one_of(
            st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True),
            st.sampled_from(["cipp.example.com", "127.0.0.1", "[::1]", "[2001:db8::1]"]),
        ),
        st.one_of(
            st.sampled_from(["[fe80::1%25eth0]", "bücher.example", "-x.example", ".example", ""]),
            st.text(PRINTABLE, max_size=12),
        ),
    )
    port = part(
        st.one_of(st.just(""), st.from_regex(r":[0-9]{1,5}", fullmatch=True)),
        st.sampled_from([":", ":123456", ":port"]),
    )
    path = part(
        st.one_of(st.just(""), st.text(PRINTABLE, max_size=15).map(lambda t: "/" + t)), ANY_TEXT
    )
    return f"{scheme}{userinfo}{host}{port}{path}"


@st.composite
def moments(draw: st.DrawFn) -> str:
    """Dates and moments spelled in the ways people write them, valid in the calendar or not."""
    part = spelling(draw)
    year = part(st.integers(1, 9999), st.just(0))
    month = part(st.integers(1, 12), st.sampled_from([0, 13]))
    day = part(st.integers(1, 31), st.just(32))  # 29 to 31: in some months only
    date = f"{year:04d}-{month:02d}-{day:02d}"
    if draw(st.booleans()):
        return date
    hour = part(st.integers(0, 23), st.integers(24, 25))
    minute, second = (part(st.integers(0, 59), st.integers(60, 61)) for _ in range(2))
    time = part(
        st.just(f"{hour:02d}:{minute:02d}:{second:02d}"),
        st.sampled_from([f"{hour:02d}:{minute:02d}", f"{hour:02d}"]),
    )
    fraction = part(st.sampled_from(["", ".5", ".123456789"]), st.sampled_from([",5", "."]))
    offset = part(
        st.builds(
            "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)
        ),
        st.builds(
            "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 61)
        ),
    )
    zone = part(
        st.sampled_from(["Z", "z", offset]), st.sampled_from(["", "+0100", "+01", " Z", "UTC"])
    )
    separator = part(st.sampled_from("Tt"), st.sampled_from([" ", "_", ""]))
    return f"{date}{separator}{time}{fraction}{zone}"


# For each kind of field: its fields, and what is generated for them (mostly values of that
# kind, spelled right or nearly right, besides anything at all).
GENERATED = {
    "boolean": (BOOLEAN, st.one_of(ANY_SCALAR, st.booleans().map(json.dumps))),
    "count": (
        COUNT,
        st.one_of(
            ANY_SCALAR,
            st.integers(min_value=-3, max_value=2**70).map(str),
            st.integers(min_value=-3, max_value=2**52).map(lambda n: f"{n}.0"),
            st.integers(min_value=0, max_value=99).map(lambda n: json.dumps(str(n))),
        ),
    ),
    "guid": (GUID, st.one_of(ANY_SCALAR, written(GUIDS), written(padded(GUIDS)))),
    "url": (
        URL,
        st.one_of(written(urls()), written(urls()), ANY_SCALAR, written(padded(urls()))),
    ),
    "date or moment": (
        MOMENT,
        st.one_of(written(moments()), written(moments()), ANY_SCALAR, written(padded(moments()))),
    ),
    "secret path": (SECRET_PATH, st.one_of(ANY_SCALAR, written(ANY_TEXT))),
    "label": (
        LABEL,
        st.one_of(
            ANY_SCALAR,
            written(st.from_regex(r"[A-Za-z0-9._ -]{0,70}", fullmatch=True)),
        ),
    ),
}


@pytest.mark.parametrize("kind", GENERATED)
@given(data=st.data())
@SETTINGS
def test_generated_values_get_one_verdict(kind: str, data: st.DataObject) -> None:
    fields, scalars = GENERATED[kind]
    assert_agree(
        data.draw(st.sampled_from(fields), label="field"), data.draw(scalars, label="value")
    )


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_estate_passes_its_schemas() -> None:
    for path in sorted((REPO / "desired").rglob("*.yaml")):
        kind = {"msp.yaml": "MSP"}.get(path.name, path.parent.name.removesuffix("s").title())
        source = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        assert source.diagnostics == []
        errors = [e.message for e in schema_validator(kind).iter_errors(source.data)]
        assert errors == [], f"{path.relative_to(REPO)}: {errors}"
