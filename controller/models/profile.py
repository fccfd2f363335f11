"""``kind: Profile``: a baseline that many tenants share (``desired/profiles/*.yaml``).

A profile declares any part of a tenant's spec (users such as a break-glass account, groups,
distribution groups, shared mailboxes with their permissions, existing principals, checks,
policy, the consent and Exchange modes). Tenants take it by name (``spec.profiles``) or it
selects them by label (``selector.matchLabels`` against ``metadata.labels``). Strings may name
facts of the tenant it is applied to (``helpdesk@${tenant.primaryDomain}``, see
:data:`PLACEHOLDERS`); the loader substitutes them per tenant and merges the result under the
tenant's own file.

``mode: report`` compares without applying: the differences become findings, never
operations.

Pure: no I/O. Merging and locating are the loader's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from controller.models.common import Slug, Strict
from controller.models.msp import PolicyRules
from controller.models.tenant import (
    Address,
    Checks,
    ConsentMode,
    DistributionGroup,
    ExchangeMode,
    Group,
    Labels,
    SharedMailbox,
    User,
)

ProfileMode = Literal["enforce", "report"]

# The tenant facts a profile's strings may name, as ``${tenant.<name>}``, and what each is.
PLACEHOLDERS: dict[str, str] = {
    "tenant.name": "metadata.name",
    "tenant.displayName": "metadata.displayName (an error for a tenant that has none)",
    "tenant.primaryDomain": "the first of metadata.domains",
    "tenant.tenantId": "metadata.tenantId",
}


class ProfileMetadata(Strict):
    name: Slug = Field(description="Unique among profiles; tenants name it in spec.profiles")
    description: str | None = None


class LabelSelector(Strict):
    match_labels: Labels = Field(
        min_length=1,
        description="Every tenant whose metadata.labels hold all of these takes the profile",
        json_schema_extra={"minProperties": 1},
    )


class ProfileSpec(Strict):
    """The part of a tenant's spec a profile declares. Nothing here has a default: what a
    profile leaves out, it leaves to the tenant."""

    consent: ConsentMode | None = None
    exchange: ExchangeMode | None = None
    existing_principals: list[Address] | None = None
    users: list[User] | None = None
    groups: list[Group] | None = None
    distribution_groups: list[DistributionGroup] | None = None
    shared_mailboxes: list[SharedMailbox] | None = None
    checks: Checks | None = None
    policy: PolicyRules | None = None


class ProfileConfig(Strict):
    api_version: Literal["tenantctl/v1"]
    kind: Literal["Profile"]
    metadata: ProfileMetadata
    mode: ProfileMode = Field(
        default="enforce",
        description="enforce: planned like the tenant's own file; report: compared only, "
        "differences are findings",
    )
    selector: LabelSelector | None = Field(
        default=None, description="Tenants that take this profile without naming it"
    )
    spec: ProfileSpec = Field(default_factory=ProfileSpec)


@dataclass(frozen=True)
class ProfileFile:
    """A profile as loaded: what selects and names it, and the file's text and data (the
    loader substitutes and merges the data per tenant, and locates values in the text)."""

    name: str
    path: str  # as diagnostics show it
    mode: ProfileMode
    match_labels: Mapping[str, str] | None  # the selector; None: only tenants that name it
    text: str = field(repr=False)
    data: Any = field(repr=False)

    def selects(self, labels: Mapping[str, Any]) -> bool:
        return self.match_labels is not None and all(
            labels.get(k) == v for k, v in self.match_labels.items()
        )


@dataclass(frozen=True)
class AppliedProfile:
    """A profile one tenant takes, and why: named in ``spec.profiles`` or selected by label."""

    name: str
    path: str
    mode: ProfileMode
    selected: bool  # True: by its selector; False: named by the tenant
