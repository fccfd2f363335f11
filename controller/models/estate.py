"""The whole desired state: one MSP configuration and every tenant, as loaded."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.models.msp import MSPConfig
from controller.models.tenant import TenantConfig


@dataclass(frozen=True)
class DesiredState:
    msp: MSPConfig
    tenants: tuple[TenantConfig, ...]
    # tenant name -> the file it came from, as diagnostics show it (relative to the cwd)
    sources: dict[str, str] = field(default_factory=dict)

    def tenant(self, name: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.metadata.name == name:
                return tenant
        raise KeyError(name)
