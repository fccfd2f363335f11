"""What git declares in a tenant, indexed by path with file and line: objects (with ``ensure``),
members and permission holders only where their list is declared, a licence at the first user
given it, consent when it is managed, profile sources named; the index survives JSON (it
travels in saved observations)."""

from __future__ import annotations

from controller.models import TenantConfig
from controller.models.declared import Declarations, declarations, estate_declarations
from tests.fixtures.demo_observed import demo_desired


def _contoso() -> Declarations:
    return estate_declarations(demo_desired())["contoso"]


def test_objects_are_indexed_by_their_lowercase_key_with_file_and_line() -> None:
    index = _contoso()
    alice = index.get("users", "alice@contoso.com")
    assert alice is not None and alice.ensure == "present"
    assert alice.source is not None
    assert (alice.source.file, alice.source.line) == ("desired/tenants/contoso.yaml", 18)
    gone = index.get("users", "temp.contractor@contoso.com")
    assert gone is not None and gone.ensure == "absent"
    assert index.get("users", "eve@contoso.com") is None  # in the tenant, not in git
    assert index.get("groups", "sales") is not None
    assert index.get("distributionGroups", "allstaff@contoso.com") is not None
    assert index.get("sharedMailboxes", "info@contoso.com") is not None
    assert index.display_name == "Contoso Ltd"
    assert index.file == "desired/tenants/contoso.yaml"


def test_members_and_permission_holders_are_declared_one_by_one() -> None:
    index = _contoso()
    carol = index.get("groups", "sales", "members", "carol@contoso.com")
    assert carol is not None and carol.source is not None and carol.source.line == 45
    assert index.get("groups", "sales", "members", "eve@contoso.com") is None
    assert index.get("sharedMailboxes", "support@contoso.com", "sendAs", "bob@contoso.com")
    assert not index.get("sharedMailboxes", "support@contoso.com", "sendAs", "alice@contoso.com")
    assert [e.path[-1] for e in index.under("groups", "sales", "members")] == [
        "alice@contoso.com",
        "carol@contoso.com",
    ]


def test_a_list_left_out_declares_no_member() -> None:
    tenant = TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": "x",
                "tenantId": "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
                "domains": ["x.com"],
            },
            "spec": {
                "consent": "unmanaged",
                "groups": [{"displayName": "Sales", "mailNickname": "Sales"}],
                "users": [
                    {"userPrincipalName": "A@x.com", "displayName": "A", "licenses": ["SPE_E3"]},
                    {"userPrincipalName": "b@x.com", "displayName": "B", "licenses": ["SPE_E3"]},
                ],
            },
        }
    )
    index = declarations(tenant)
    assert [e.path for e in index.entries] == [
        ("users", "a@x.com"),
        ("licences", "spe_e3"),
        ("users", "b@x.com"),
        ("groups", "sales"),
    ]
    assert all(e.source is None for e in index.entries)  # no provenance given
    assert index.get("consent") is None  # consent: unmanaged


def test_a_licence_is_sourced_at_the_first_user_given_it_and_profiles_are_named() -> None:
    index = _contoso()
    licence = index.get("licences", "spe_e3")
    assert licence is not None and licence.source is not None
    assert licence.source.line == 26  # alice's licenses, the first to name SPE_E3
    consent = index.get("consent")
    assert consent is not None and consent.source is not None
    woodgrove = estate_declarations(demo_desired())["woodgrove"]
    assert woodgrove.get("groups", "legacy-vpn") is not None


def test_the_index_survives_json() -> None:
    index = _contoso()
    assert index.get("users", "alice@contoso.com") is not None  # its lookup is built
    again = Declarations.model_validate_json(index.model_dump_json(by_alias=True))
    assert again == index
    assert again.get("users", "alice@contoso.com") == index.get("users", "alice@contoso.com")
