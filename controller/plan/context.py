"""What the planner needs to know besides desired and observed state.

The planner never reads a clock or a configuration file: the caller builds a
:class:`PlanContext` once per run (``PlanContext.from_msp``) and passes it in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from controller.models import MSPConfig
from controller.models.naming import key_vault_secret_name

# Entra login host per cloud (API-NOTES.md, "Endpoints per cloud"): the admin-consent URL is
# served there.
LOGIN_ENDPOINTS = {
    "global": "https://login.microsoftonline.com",
    "usgov-high": "https://login.microsoftonline.us",
    "usgov-dod": "https://login.microsoftonline.us",
    "china": "https://login.chinacloudapi.cn",
}

GDAP_EXPIRY_WARNING = dt.timedelta(days=30)
#: How long after an interrupted create its object may still be missing from lists and
#: lookups (Entra directory replication: usually seconds, at times minutes). Before it has
#: passed, no create is repeated.
REPLICATION_WINDOW = dt.timedelta(minutes=5)
#: What a plan shows for a password that apply generates (followed by where it goes).
GENERATED_PASSWORD = "(generated at apply)"


@dataclass(frozen=True, slots=True)
class PlanContext:
    now: dt.datetime
    """The moment the plan is made (timezone-aware): GDAP expiry, actions' ``notAfter``."""
    app_id: str
    """The partner app's client id, for the admin-consent URL."""
    login_endpoint: str = LOGIN_ENDPOINTS["global"]
    cipp_connected: bool = False
    """The MSP has a CIPP connection that answered; consent can then go through CIPP."""
    default_usage_location: str | None = None
    """``defaults.usageLocation`` in msp.yaml: used for new users and before licences."""
    force_change_password: bool = True
    """``defaults.forceChangePasswordNextSignIn``: the password profile of new users."""
    gdap_expiry_warning: dt.timedelta = GDAP_EXPIRY_WARNING
    replication_window: dt.timedelta = REPLICATION_WINDOW
    """After an interrupted create, how long before absence may be believed."""
    key_vault: str | None = None
    """``secretSink.keyVault.url``: generated passwords go there, one secret each."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("PlanContext.now must be timezone-aware")

    @classmethod
    def from_msp(
        cls, msp: MSPConfig, *, now: dt.datetime, cipp_connected: bool | None = None
    ) -> PlanContext:
        """The context for a run over ``msp``'s estate.

        ``cipp_connected`` defaults to "msp.yaml has a CIPP connection"; observe passes False
        when that connection failed its credentials check.
        """
        spec = msp.spec
        login = spec.endpoints.login or LOGIN_ENDPOINTS[spec.cloud]
        return cls(
            now=now,
            app_id=spec.partner.client_id,
            login_endpoint=login.rstrip("/"),
            cipp_connected=spec.cipp is not None if cipp_connected is None else cipp_connected,
            default_usage_location=spec.defaults.usage_location,
            force_change_password=spec.defaults.force_change_password_next_sign_in,
            key_vault=vault.url.rstrip("/") if (vault := spec.secret_sink.key_vault) else None,
        )

    def generated_password(self, tenant: str, upn: str, purpose: str) -> str:
        """What a plan says of a password apply generates: where it will go, never a value."""
        if self.key_vault is None:
            return GENERATED_PASSWORD
        name = key_vault_secret_name(tenant, upn, purpose)
        return f"{GENERATED_PASSWORD}, Key Vault {self.key_vault} secret {name}"

    def admin_consent_url(self, tenant_id: str) -> str:
        return f"{self.login_endpoint}/{tenant_id}/adminconsent?client_id={self.app_id}"
