"""The whole desired state: one MSP configuration and every tenant, as loaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.models.msp import MSPConfig
from controller.models.profile import AppliedProfile, ProfileFile
from controller.models.provenance import Provenance
from controller.models.tenant import TenantConfig


@dataclass(frozen=True)
class ProfileReport:
    """A tenant with its report-mode profiles applied as well: what the planner compares with
    the tenant to find where it deviates from them (as findings, never operations)."""

    config: TenantConfig
    profiles: tuple[str, ...]  # the report-mode profiles, in the order they apply
    provenance: Provenance | None = None


@dataclass(frozen=True)
class DesiredState:
    msp: MSPConfig
    # Each tenant as planned: its file with its enforce-mode profiles applied.
    tenants: tuple[TenantConfig, ...]
    # tenant name -> the file it came from, as diagnostics show it (relative to the cwd)
    sources: dict[str, str] = field(default_factory=dict)
    profiles: Mapping[str, ProfileFile] = field(default_factory=dict)  # by profile name
    applied: Mapping[str, tuple[AppliedProfile, ...]] = field(default_factory=dict)  # by tenant
    provenance: Mapping[str, Provenance] = field(default_factory=dict)  # by tenant
    reports: Mapping[str, ProfileReport] = field(default_factory=dict)  # by tenant

    def tenant(self, name: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.metadata.name == name:
                return tenant
        raise KeyError(name)

    def tenants_to_observe(self) -> tuple[TenantConfig, ...]:
        """What observe reads for each tenant: with its report-mode profiles applied too, so
        that what they declare is read and can be compared."""
        return tuple(
            self.reports[t.metadata.name].config if t.metadata.name in self.reports else t
            for t in self.tenants
        )
