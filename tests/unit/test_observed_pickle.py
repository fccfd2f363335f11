"""Observations cross a pipe from each observing worker: they pickle through their
constructors (``models/observed._pickled_by_constructor``), not through Python 3.11's
field-by-field state of a frozen slotted dataclass, which calls ``dataclasses.fields`` for
every object both ways; and they come back equal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
from typing import Any

import pytest

from controller.models import observed as observed_module
from controller.models.observed import (
    GdapRelationship,
    GdapState,
    ObservedGroup,
    ObservedTenant,
    ObservedUser,
    Principal,
    Sku,
    Unknown,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _tenant() -> ObservedTenant:
    users = tuple(
        ObservedUser(
            id=f"u{i}",
            user_principal_name=f"user{i}@contoso.com",
            display_name=f"User {i}",
            account_enabled=i % 2 == 0,
            usage_location="US",
            license_sku_ids=frozenset({"sku-e3"}),
        )
        for i in range(3)
    )
    members = tuple(Principal(id=u.id, address=u.user_principal_name) for u in users)
    return ObservedTenant(
        name="contoso",
        tenant_id="00000000-0000-0000-0000-000000000001",
        observed_at=NOW,
        gdap=GdapState(
            relationships=(
                GdapRelationship(
                    id="r1",
                    display_name="MSP",
                    status="active",
                    end=NOW + dt.timedelta(days=300),
                    role_ids=frozenset({"62e90394-69f5-4237-9190-012177145e10"}),
                ),
            ),
            status="active",
            has_global_admin=True,
            has_privileged_role_admin=False,
        ),
        skus=(Sku("sku-e3", "ENTERPRISEPACK", 10, 3),),
        users=users,
        groups=(ObservedGroup("g1", "Staff", "staff", "security", members=members),),
        mfa=Unknown("needsLicence", "the tenant has no Entra ID P1"),
    )


def test_an_observation_pickles_back_equal_without_a_field_walk_per_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = _tenant()
    walks: list[Any] = []
    fields = dataclasses.fields

    def counted(thing: Any) -> Any:
        walks.append(type(thing).__name__)
        return fields(thing)

    monkeypatch.setattr(dataclasses, "fields", counted)
    sent = pickle.dumps(tenant)
    back = pickle.loads(sent)
    assert back == tenant
    assert walks == []  # 3.11's own pickling of a slotted dataclass walks its fields each time
    assert isinstance(back.mfa, Unknown)
    assert back.users[0].license_sku_ids == frozenset({"sku-e3"})


def test_every_slotted_observation_class_pickles_through_its_constructor() -> None:
    slotted = [
        value
        for value in vars(observed_module).values()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == observed_module.__name__
        and "__slots__" in vars(value)
    ]
    assert len(slotted) >= 16
    for cls in slotted:
        assert "__reduce__" in vars(cls), cls.__name__
