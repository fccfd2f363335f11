"""``import --omit-profile-objects`` as a pure step: an object the profiles declare with the
values imported is left out, one they declare otherwise is kept whole, comments follow the
objects that stay, and an emptied section is not written."""

from __future__ import annotations

from controller.importer._profiles import omit_profile_objects
from controller.importer._types import TenantImport
from controller.importer._yaml import render_tenant_yaml
from controller.models import TenantConfig


def imported() -> TenantImport:
    config = TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": "contoso",
                "tenantId": "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
                "domains": ["contoso.com"],
            },
            "spec": {
                "users": [
                    {"userPrincipalName": "Breakglass@contoso.com", "displayName": "Break Glass"},
                    {"userPrincipalName": "alice@contoso.com", "displayName": "Alice"},
                ],
                "groups": [
                    {
                        "mailNickname": "staff",
                        "displayName": "Staff",
                        "members": ["alice@contoso.com"],
                    },
                    {"mailNickname": "sales", "displayName": "Sales"},
                ],
                "distributionGroups": [
                    {"name": "All Staff", "primarySmtpAddress": "allstaff@contoso.com"}
                ],
            },
        }
    )
    comments = {("spec", "groups", 1): ("1 member left out",), ("spec", "users"): ("users",)}
    return TenantImport(config, ("header",), comments, ("a note",))


def test_objects_the_profiles_declare_as_they_are_are_left_out() -> None:
    declared = {
        "users": {
            "breakglass@contoso.com": {
                "userPrincipalName": "breakglass@contoso.com",
                "displayName": "Break Glass",
            }
        },
        "groups": {
            "staff": {
                "mailNickname": "staff",
                "displayName": "Staff",
                "members": ["ALICE@contoso.com"],
            },
            "sales": {"mailNickname": "sales", "displayName": "Sales team"},  # differs: kept
        },
        "distributionGroups": {
            "allstaff@contoso.com": {
                "name": "All Staff",
                "primarySmtpAddress": "allstaff@contoso.com",
            }
        },
    }
    result = omit_profile_objects(imported(), declared)
    spec = result.config.spec
    assert [u.user_principal_name for u in spec.users] == ["alice@contoso.com"]
    assert [g.mail_nickname for g in spec.groups] == ["sales"]
    assert result.comments == {
        ("spec", "groups", 0): ("1 member left out",),
        ("spec", "users"): ("users",),
    }
    assert result.notes == (
        "a note",
        "3 object(s) left out: the tenant's profiles declare them as they are "
        "(allstaff@contoso.com, breakglass@contoso.com, staff)",
    )
    assert "distributionGroups" not in render_tenant_yaml(result)


def test_nothing_declared_leaves_the_import_as_it_is() -> None:
    before = imported()
    assert omit_profile_objects(before, {}) is before
