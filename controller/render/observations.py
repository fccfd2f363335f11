"""The saved observation: a plan with what was observed and what git declares, tenant by tenant.

``tenantctl plan --observations FILE`` writes it; ``tenantctl report --observations FILE``
builds the estate report from it later, elsewhere, without credentials or the desired state (a
CI job that only holds artifacts). It holds everything the report shows: the plan (badges,
drift, findings, manual steps, unknown areas), each tenant's observed state (users, groups,
licences, GDAP, consent; unknown areas with their reasons) and the index of what git declares
with file and line (:class:`~controller.models.declared.Declarations`).

Format version 1, camelCase keys, described by ``schemas/observations.schema.json``. It names
the tenants' users: kept like a plan (mode 0600), shared like one.

Pure: text in, models out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from controller.models.common import CAMEL_CASE
from controller.models.declared import Declarations
from controller.models.observed import ObservedTenant, Unknown
from controller.plan.types import Plan

__all__ = [
    "OBSERVATIONS_FORMAT_VERSION",
    "SavedObservations",
    "SavedTenant",
    "observations_json",
    "saved_observations",
]

OBSERVATIONS_FORMAT_VERSION: Literal[1] = 1
_NOT_OBSERVED = Unknown("error", "the tenant was not observed")


class SavedTenant(BaseModel):
    """One tenant: what observe saw, and what git declares."""

    model_config = CAMEL_CASE

    observed: ObservedTenant
    declared: Declarations


class SavedObservations(BaseModel):
    """``plan --observations FILE``: the plan, and every planned tenant as observed."""

    model_config = CAMEL_CASE

    # Required, never defaulted: the file is written without its default values (a third
    # smaller, as much faster to read back), and the version must always be in it.
    format_version: Literal[1]
    plan: Plan
    tenants: tuple[SavedTenant, ...] = Field(description="In the plan's order (by name)")


def saved_observations(
    plan: Plan,
    observed: Mapping[str, ObservedTenant],
    declared: Mapping[str, Declarations],
) -> SavedObservations:
    """The plan's tenants with what was observed and declared (a tenant observe never reached
    is saved as unreachable, every area unknown, as the plan shows it)."""
    tenants = []
    for planned in plan.tenants:
        seen = observed.get(planned.name) or ObservedTenant.unreachable(
            planned.name,
            planned.tenant_id,
            plan.created_at,
            _NOT_OBSERVED,
        )
        index = declared.get(planned.name) or Declarations(tenant=planned.name)
        tenants.append(SavedTenant(observed=seen, declared=index))
    return SavedObservations(
        format_version=OBSERVATIONS_FORMAT_VERSION, plan=plan, tenants=tuple(tenants)
    )


def observations_json(saved: SavedObservations) -> str:
    """The file's text: compact, camelCase, values equal to their default left out (they are
    filled in again when it is read)."""
    return saved.model_dump_json(by_alias=True, exclude_defaults=True)
