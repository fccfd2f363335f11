"""What a run keeps of every tenant is shared where it is equal, not kept once per object
(``bench/README.md``, "Scale and memory"): the names of the fields each desired-state and
plan model was given, the texts and licence sets of observed users. Sharing never changes a
value: a copy gets its own names, and changing shared names in place is refused."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from controller.models import TenantConfig
from controller.models.common import SharedFieldNames
from controller.models.tenant import Checks
from controller.observe import translate
from controller.plan.types import Finding


def _tenant(users: list[dict[str, Any]]) -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": "contoso",
                "tenantId": "8a3c1f2e-4b5d-4e6f-9a0b-1c2d3e4f5a6b",
                "domains": ["contoso.com"],
            },
            "spec": {"users": users},
        },
        by_name=False,
    )


def _user(n: int, **more: Any) -> dict[str, Any]:
    return {
        "userPrincipalName": f"user{n}@contoso.com",
        "displayName": f"User {n}",
        "usageLocation": "US",
        "accountEnabled": True,
        "licenses": ["SPE_E3"],
        **more,
    }


def test_models_given_the_same_fields_share_one_set_of_their_names() -> None:
    tenant = _tenant([_user(1), _user(2), _user(3, jobTitle="Engineer")])
    first, second, third = tenant.spec.users
    assert first.model_fields_set is second.model_fields_set
    assert isinstance(first.model_fields_set, SharedFieldNames)
    assert third.model_fields_set == first.model_fields_set | {"job_title"}
    # What was given is still told apart from a default, as the planner and renderers need.
    assert first.model_dump(by_alias=True, exclude_unset=True) == _user(1)
    assert "jobTitle" in third.model_dump(by_alias=True, exclude_unset=True)


def test_a_copy_has_the_names_it_was_given_and_the_original_keeps_its_own() -> None:
    user = _tenant([_user(1)]).spec.users[0]
    copied = user.model_copy(update={"job_title": "Engineer"})
    assert "job_title" in copied.model_fields_set
    assert "job_title" not in user.model_fields_set
    again = _tenant([_user(2, jobTitle="Engineer")]).spec.users[0]
    assert copied.model_fields_set is again.model_fields_set
    finding = Finding(check="mfa", severity="warning", subject="user:a", message="m")
    sourced = finding.model_copy(update={"source": None})
    assert sourced.model_fields_set == finding.model_fields_set | {"source"}
    assert isinstance(sourced.model_fields_set, SharedFieldNames)


def test_changing_shared_names_in_place_is_refused_and_changes_nothing() -> None:
    first, second = _tenant([_user(1), _user(2)]).spec.users
    with pytest.raises(TypeError, match="shared field names"):
        first.model_fields_set.add("job_title")
    with pytest.raises(TypeError):
        first.model_fields_set.discard("licenses")
    with pytest.raises(TypeError):
        second.model_fields_set |= {"job_title"}
    assert "job_title" not in first.model_fields_set
    assert "licenses" in second.model_fields_set


def test_a_model_sent_to_another_process_arrives_equal() -> None:
    tenant = _tenant([_user(1), _user(2)])
    assert pickle.loads(pickle.dumps(tenant)) == tenant


def test_a_check_declared_absent_is_not_among_the_names_given() -> None:
    checks = Checks.model_validate(
        {"mfa": {"require": "registered", "ensure": "absent"}, "riskyUsers": {}}, by_name=False
    )
    assert checks.mfa is None
    assert checks.model_fields_set == {"risky_users"}


def _answer(n: int, sku: str) -> dict[str, Any]:
    # Each text a string object of its own, as a JSON parser makes them.
    return {
        "id": f"id-{n}",
        "userPrincipalName": f"user{n}@contoso.com",
        "displayName": "".join(["Same ", "Name"]),
        "usageLocation": "".join(["U", "S"]),
        "assignedLicenses": [{"skuId": "".join([sku, ""]).upper()}],
    }


def test_observed_users_share_equal_texts_and_licence_sets() -> None:
    licences: dict[frozenset[str], frozenset[str]] = {}
    sku = "05e9a617-0261-4cee-bb44-138d3ef5d965"
    first, second = (translate.user(_answer(n, sku), licences) for n in (1, 2))
    assert first.display_name == "Same Name"
    assert first.display_name is second.display_name
    assert first.usage_location is second.usage_location
    assert first.license_sku_ids == {sku}
    assert first.license_sku_ids is second.license_sku_ids
    alone = translate.user(_answer(3, sku))
    assert alone.license_sku_ids == first.license_sku_ids
