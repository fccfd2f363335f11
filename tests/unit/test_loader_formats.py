"""Field formats and shapes, each reported at the offending value: GUIDs, UPNs, SMTP
addresses, domains, mailNickname, usage location, enumerations, unknown fields (with 'did you
mean'), required fields, secret references, credentials and policy kinds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.desired_files import MSP, TENANT, tenant, validate

FILE = "desired/tenants/contoso.yaml"
MSP_FILE = "desired/msp.yaml"


def tenant_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    return validate(tmp_path, monkeypatch, {"contoso": text})


def msp_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    return validate(tmp_path, monkeypatch, {"contoso": TENANT}, msp=text)


def with_user(line: str) -> str:
    """TENANT with one more line in alice's entry (line 12)."""
    return TENANT.replace("displayName: Alice\n", f"displayName: Alice\n      {line}\n")


# --- identifiers and addresses --------------------------------------------------------------


def test_tenant_id_must_be_a_guid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(tenant_id="6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:5:13: metadata.tenantId: '6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5' is not a GUID "
        "(expected 8-4-4-4-12 hexadecimal digits)"
    ]


def test_tenant_ids_are_compared_lowercased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(tenant_id="6F1C0D4E-2A3B-4C5D-8E9F-0A1B2C3D4E5F")
    assert tenant_problems(tmp_path, monkeypatch, text) == []


@pytest.mark.parametrize(
    ("upn", "message"),
    [
        ("alice", "'alice' is not a valid user principal name (expected name@domain)"),
        ("@contoso.com", "'@contoso.com' is not a valid user principal name (expected name@domain)"),
        ("alice@contoso", "'alice@contoso' is not a valid user principal name: 'contoso' is not a domain name"),
        ("al ice@contoso.com", "'al ice@contoso.com' is not a valid user principal name: the part before @ may hold letters, digits and ' . - _ ! # ^ ~ (at most 64, not starting or ending with .)"),
        (".alice@contoso.com", "'.alice@contoso.com' is not a valid user principal name: the part before @ may hold letters, digits and ' . - _ ! # ^ ~ (at most 64, not starting or ending with .)"),
    ],
)  # fmt: skip
def test_user_principal_name_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upn: str, message: str
) -> None:
    text = TENANT.replace("alice@contoso.com", f"'{upn}'")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:10:26: spec.users[0].userPrincipalName: {message}"
    ]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("all staff@contoso.com", "'all staff@contoso.com' is not a valid SMTP address"),
        ("all..staff@contoso.com", "'all..staff@contoso.com' is not a valid SMTP address"),
        ("allstaff", "'allstaff' is not a valid SMTP address (expected name@domain)"),
        ("allstaff@-contoso.com", "'allstaff@-contoso.com' is not a valid SMTP address: '-contoso.com' is not a domain name"),
    ],
)  # fmt: skip
def test_smtp_address_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, address: str, message: str
) -> None:
    text = tenant(
        spec=f"""
        exchange: direct
        distributionGroups:
          - name: All Staff
            primarySmtpAddress: '{address}'
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:27: spec.distributionGroups[0].primarySmtpAddress: {message}"
    ]


def test_members_must_be_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(
        spec="""
        users:
          - {userPrincipalName: alice@contoso.com, displayName: Alice}
        groups:
          - {displayName: Sales, mailNickname: sales, members: [alice@contoso.com, Alice]}
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:78: spec.groups[0].members[1]: 'Alice' is not a valid SMTP address "
        "(expected name@domain)"
    ]


def test_domain_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(domains="[contoso.com, contoso]")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:6:26: metadata.domains[1]: 'contoso' is not a valid domain name"
    ]


def test_a_tenant_needs_a_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(domains="[]")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:6:12: metadata.domains: List should have at least 1 item after validation, not 0"
    ]


def test_tenant_name_is_a_slug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(name="Contoso Ltd")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:4:9: metadata.name: 'Contoso Ltd' is not a valid name: use lowercase letters, "
        "digits and hyphens (at most 63, not starting or ending with a hyphen)"
    ]


# --- mailNickname ----------------------------------------------------------------------------


def group_with_nickname(nickname: str) -> str:
    return tenant(
        spec=f"""
        groups:
          - displayName: Sales
            mailNickname: {nickname}
        """
    )


@pytest.mark.parametrize(
    ("nickname", "message"),
    [
        ("''", "mailNickname must be 1 to 64 characters"),
        ("a" * 65, "mailNickname must be 1 to 64 characters"),
        ("équipe", "mailNickname 'équipe' must be ASCII"),
        ("'sa les'", "mailNickname 'sa les' must not contain space"),
        ("'a@b(c)'", "mailNickname 'a@b(c)' must not contain ( ) @"),
    ],
)
def test_mail_nickname_length_ascii_and_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nickname: str, message: str
) -> None:
    assert tenant_problems(tmp_path, monkeypatch, group_with_nickname(nickname)) == [
        f"{FILE}:10:21: spec.groups[0].mailNickname: {message}"
    ]


def test_mail_nickname_of_64_characters_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tenant_problems(tmp_path, monkeypatch, group_with_nickname("a" * 64)) == []


@pytest.mark.parametrize("character", list('@()[]";:.<>,\\'))
def test_mail_nickname_forbidden_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, character: str
) -> None:
    nickname = f"sa{character}les"
    quoted = "'" + nickname + "'"
    assert tenant_problems(tmp_path, monkeypatch, group_with_nickname(quoted)) == [
        f"{FILE}:10:21: spec.groups[0].mailNickname: mailNickname {nickname!r} must not "
        f"contain {character}"
    ]


def test_exchange_alias_follows_the_mail_nickname_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        sharedMailboxes:
          - {name: Support, primarySmtpAddress: support@contoso.com, alias: 'sup port'}
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:9:71: spec.sharedMailboxes[0].alias: mailNickname 'sup port' must not contain "
        "space"
    ]


# --- usage location --------------------------------------------------------------------------


@pytest.mark.parametrize("location", ["XX", "USA", "U", "'1'"])
def test_usage_location_is_iso_3166_alpha_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    shown = location.strip("'")
    assert tenant_problems(tmp_path, monkeypatch, with_user(f"usageLocation: {location}")) == [
        f"{FILE}:12:22: spec.users[0].usageLocation: {shown!r} is not an ISO 3166 alpha-2 "
        "country code (e.g. US, GB, DE)"
    ]


def test_usage_location_is_uppercased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tenant_problems(tmp_path, monkeypatch, with_user("usageLocation: gb")) == []


# --- enumerations, required and unknown fields ------------------------------------------------


def test_exchange_mode_must_be_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("exchange: direct", "exchange: hybrid")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:8:13: spec.exchange: Input should be 'direct', 'cipp', 'auto', 'none' or "
        "'unmanaged'"
    ]


def test_consent_mode_must_be_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("exchange: direct", "consent: pending")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:8:12: spec.consent: Input should be 'granted' or 'unmanaged'"
    ]


def test_unknown_field_suggests_the_closest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("userPrincipalName", "userPrincipleName")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:10:7: spec.users[0].userPrincipalName: missing required field 'userPrincipalName'",
        f"{FILE}:10:7: spec.users[0].userPrincipleName: unknown field 'userPrincipleName'; "
        "did you mean 'userPrincipalName'?",
    ]


def test_unknown_field_without_a_close_match_lists_the_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("  exchange: direct", "  exchange: direct\n  colour: blue")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:9:3: spec.colour: unknown field 'colour'; expected one of: actions, checks, "
        "consent, distributionGroups, exchange, existingPrincipals, groups, policy, profiles, "
        "sharedMailboxes, users"
    ]


def test_unknown_field_at_the_top(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TENANT.replace("metadata:", "metdata:")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:1:1: metadata: missing required field 'metadata'",
        f"{FILE}:3:1: metdata: unknown field 'metdata'; did you mean 'metadata'?",
    ]


def test_snake_case_is_not_accepted_for_camel_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace("displayName", "display_name")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:7: spec.users[0].display_name: unknown field 'display_name'; "
        "did you mean 'displayName'?",
    ]


def test_present_objects_need_a_name_absent_ones_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        exchange: direct
        users:
          - userPrincipalName: alice@contoso.com
          - {userPrincipalName: bob@contoso.com, ensure: absent}
        groups:
          - mailNickname: sales
        distributionGroups:
          - primarySmtpAddress: all@contoso.com
        sharedMailboxes:
          - primarySmtpAddress: help@contoso.com
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:10:7: spec.users[0]: displayName is required unless ensure is absent",
        f"{FILE}:13:7: spec.groups[0]: displayName is required unless ensure is absent",
        f"{FILE}:15:7: spec.distributionGroups[0]: name is required unless ensure is absent",
        f"{FILE}:17:7: spec.sharedMailboxes[0]: name is required unless ensure is absent",
    ]


def test_action_needs_exactly_one_kind_and_a_valid_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="""
        users:
          - {userPrincipalName: alice@contoso.com, displayName: Alice}
        actions:
          - id: reset alice
            resetPassword: {user: alice@contoso.com}
          - id: nothing
          - id: late
            notAfter: someday
            resetPassword: {user: alice@contoso.com}
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:11: spec.actions[0].id: 'reset alice' does not match the expected format "
        "(string should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')",
        f"{FILE}:13:7: spec.actions[1]: an action needs exactly one of: resetPassword",
        f"{FILE}:15:17: spec.actions[2].notAfter: 'someday' is not a date (2026-12-31) or a "
        "moment with a time zone (2026-12-31T08:00:00Z)",
    ]


def test_not_after_takes_a_date_or_a_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.desired_files import load

    text = tenant(
        spec="""
        users:
          - {userPrincipalName: alice@contoso.com, displayName: Alice}
        actions:
          - {id: a, notAfter: 2026-12-31, resetPassword: {user: alice@contoso.com}}
          - {id: b, notAfter: '2026-12-31T08:00:00+01:00', resetPassword: {user: alice@contoso.com}}
        """
    )
    state, problems = load(tmp_path, monkeypatch, {"contoso": text})
    assert problems == []
    assert state is not None
    first, second = state.tenant("contoso").spec.actions
    assert str(first.not_after) == "2026-12-31"
    assert str(second.not_after) == "2026-12-31 08:00:00+01:00"


# --- msp.yaml: secrets, credentials, policy -------------------------------------------------


def test_a_literal_secret_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("secret: {env: TENANTCTL_CLIENT_SECRET}", "secret: s3cr3t-v4lue")
    problems = msp_problems(tmp_path, monkeypatch, text)
    assert problems == [
        f"{MSP_FILE}:10:15: spec.partner.credential.secret: secrets must not be stored in "
        "YAML; use {env: NAME} or {file: PATH}"
    ]


def test_a_literal_secret_is_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("{env: CIPP_CLIENT_SECRET}", "{env: 'xK9~s3cr3t.v4lue'}")
    text = text.replace("secret: {env: TENANTCTL_CLIENT_SECRET}", "secret: {value: s3cr3t-v4lue}")
    problems = msp_problems(tmp_path, monkeypatch, text)
    assert problems == [
        f"{MSP_FILE}:10:16: spec.partner.credential.secret.value: unknown field 'value'; "
        "expected one of: env, file",
        f"{MSP_FILE}:15:13: spec.cipp.secret: env must name an environment variable "
        "(letters, digits and _, not starting with a digit), not hold the secret itself",
    ]
    assert not any("s3cr3t" in p for p in problems)


@pytest.mark.parametrize(
    "reference", ["{env: A, file: /run/secret}", "{}", "{env: null}", "{file: null}"]
)
def test_a_secret_reference_needs_exactly_one_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    text = MSP.replace("{env: CIPP_CLIENT_SECRET}", reference)
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:15:13: spec.cipp.secret: a secret reference needs exactly one of env or file"
    ]


@pytest.mark.parametrize(
    "credential",
    [
        "{}",
        "{secret: {env: A}, assertion: {file: /var/run/token}}",
    ],
)
def test_a_credential_needs_exactly_one_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credential: str
) -> None:
    text = MSP.replace(
        "credential:\n      secret: {env: TENANTCTL_CLIENT_SECRET}", f"credential: {credential}"
    )
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:9:17: spec.partner.credential: a credential needs exactly one of secret, "
        "certificate or assertion"
    ]


def test_certificate_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = MSP.replace(
        "secret: {env: TENANTCTL_CLIENT_SECRET}",
        "certificate: {privateKey: {file: /run/key.pem}, thumbprint: "
        "0123456789ABCDEF0123456789abcdef01234567}",
    )
    assert msp_problems(tmp_path, monkeypatch, good) == []
    bad = good.replace("0123456789ABCDEF0123456789abcdef01234567", "ABC")
    assert msp_problems(tmp_path, monkeypatch, bad) == [
        f"{MSP_FILE}:10:67: spec.partner.credential.certificate.thumbprint: 'ABC' does not "
        "match the expected format (string should match pattern '^[0-9A-Fa-f]{40}$')"
    ]


def test_cipp_needs_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("https://cipp.example.com", "http://cipp.example.com")
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:12:14: spec.cipp.baseUrl: 'http://cipp.example.com' is not an https URL "
        "(expected https://host[:port][/path])"
    ]


def test_cloud_must_be_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("spec:\n", "spec:\n  cloud: azure\n")
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:6:10: spec.cloud: Input should be 'global', 'usgov-high', 'usgov-dod' or "
        "'china'"
    ]


POLICY = """\
  policy:
    default: approve
    kinds:
      group.*: allow
      user.create: allow
      user.frobnicate: deny
      mailbox.*: deny
      user.delete: sometimes
    guards: {maxDeletions: -1}
"""


def test_policy_kinds_must_name_operation_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = MSP + POLICY
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:23:7: spec.policy.kinds.user.frobnicate: 'user.frobnicate' names no "
        "operation kind (e.g. user.create, group.*); see `tenantctl validate --help` for the list",
        f"{MSP_FILE}:24:7: spec.policy.kinds.mailbox.*: 'mailbox.*' names no operation kind "
        "(e.g. user.create, group.*); see `tenantctl validate --help` for the list",
        f"{MSP_FILE}:25:20: spec.policy.kinds.user.delete: Input should be 'allow', 'approve' "
        "or 'deny'",
        f"{MSP_FILE}:26:28: spec.policy.guards.maxDeletions: Input should be greater than or "
        "equal to 0",
    ]


def test_tenant_policy_kinds_are_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TENANT.replace(
        "  exchange: direct\n", "  exchange: direct\n  policy:\n    kinds: {user.nuke: allow}\n"
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:10:13: spec.policy.kinds.user.nuke: 'user.nuke' names no operation kind "
        "(e.g. user.create, group.*); see `tenantctl validate --help` for the list"
    ]


# --- scalars read as the README and the JSON Schema describe them ----------------------------
# (tests/unit/test_loader_schema_agree.py checks that the schema gives the same verdicts)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("yes", "'yes'"),
        ("off", "'off'"),
        ("n", "'n'"),
        ("1", "the number 1"),
        ('"false"', "'false'"),
    ],
)
def test_only_true_and_false_are_booleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, shown: str
) -> None:
    text = with_user(f"accountEnabled: {value}")
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:12:23: spec.users[0].accountEnabled: {shown} is not a boolean: write true or "
        "false, unquoted (YAML 1.2 reads yes, off, 1 and 'false' as text or numbers)"
    ]


def test_a_guard_is_a_whole_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        MSP
        + "  policy:\n    guards: {maxDeletions: true, maxDisables: '3', maxMemberRemovals: 5.0}\n"
    )
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:19:28: spec.policy.guards.maxDeletions: true is not a whole number: write "
        "one, e.g. 5",
        f"{MSP_FILE}:19:47: spec.policy.guards.maxDisables: '3' is not a whole number: remove "
        "the quotes",
    ]


def test_a_moment_needs_its_time_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tenant(
        spec="""
        users:
          - {userPrincipalName: alice@contoso.com, displayName: Alice}
        actions:
          - {id: a, notAfter: 2026-12-31T08:00:00, resetPassword: {user: alice@contoso.com}}
          - {id: b, notAfter: 2026-02-30, resetPassword: {user: alice@contoso.com}}
          - {id: c, notAfter: 1767168000, resetPassword: {user: alice@contoso.com}}
        """
    )
    assert tenant_problems(tmp_path, monkeypatch, text) == [
        f"{FILE}:11:25: spec.actions[0].notAfter: '2026-12-31T08:00:00' has no time zone, so "
        "it means a different moment on every machine: add Z for UTC or an offset "
        "(2026-12-31T08:00:00Z, 2026-12-31T08:00:00+01:00)",
        f"{FILE}:12:25: spec.actions[1].notAfter: '2026-02-30' is not a day in the calendar",
        f"{FILE}:13:25: spec.actions[2].notAfter: expected a date (2026-12-31) or a moment with "
        "a time zone (2026-12-31T08:00:00Z), not the number 1767168000",
    ]


NIL = "00000000-0000-0000-0000-000000000000"
NIL_MESSAGE = (
    f"{NIL} is the nil GUID, a placeholder and no tenant's or app's id: copy the real one "
    "from the Entra admin center (Overview, or the app registration)"
)


def test_the_nil_guid_is_no_tenant_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tenant_problems(tmp_path, monkeypatch, tenant(tenant_id=NIL)) == [
        f"{FILE}:5:13: metadata.tenantId: {NIL_MESSAGE}"
    ]


def test_the_nil_guid_is_no_client_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", NIL)
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:8:15: spec.partner.clientId: {NIL_MESSAGE}"
    ]


def test_credentials_in_a_url_are_an_error_and_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = MSP.replace("https://cipp.example.com", "https://admin:hunter2@cipp.example.com")
    text = text.replace(
        "spec:\n", "spec:\n  endpoints: {graph: 'https://svc@graph.example.com/v1'}\n"
    )
    problems = msp_problems(tmp_path, monkeypatch, text)
    message = (
        "the URL holds a user name or password (before @): remove them; tenantctl signs in "
        "with the app's own credential, and URLs are written to logs"
    )
    assert problems == [
        f"{MSP_FILE}:6:22: spec.endpoints.graph: {message}",
        f"{MSP_FILE}:13:14: spec.cipp.baseUrl: {message}",
    ]
    assert not any("hunter2" in p or "admin" in p for p in problems)


def test_a_secret_file_needs_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MSP.replace("{env: CIPP_CLIENT_SECRET}", '{file: ""}')
    assert msp_problems(tmp_path, monkeypatch, text) == [
        f"{MSP_FILE}:15:20: spec.cipp.secret.file: the path is empty: give the path of the "
        "file that holds the secret"
    ]
