"""``kind: MSP``: the managed service provider's connections, cloud, policy and defaults.

One file, ``desired/msp.yaml``. It holds no secret: credentials are references.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from controller.models.common import (
    API_VERSION,
    Boolean,
    Count,
    CountryCode,
    DateOrMoment,
    Guid,
    HttpsUrl,
    SecretRef,
    Slug,
    Strict,
)
from controller.models.operations import Decision, kinds_matching

Cloud = Literal["global", "usgov-high", "usgov-dod", "china"]


class Metadata(Strict):
    name: Slug = Field(description="A short name for the MSP (lowercase, digits, hyphens)")


class Endpoints(Strict):
    """Per-service base URLs. Each overrides the cloud's default; the sandbox uses them all."""

    login: HttpsUrl | None = None
    graph: HttpsUrl | None = None
    exchange: HttpsUrl | None = None
    partner_center: HttpsUrl | None = None
    key_vault: HttpsUrl | None = Field(
        default=None,
        description="Where secretSink.keyVault's requests go instead of its url (the sandbox's "
        "vault); the SDK's check that the host is a vault's is then off",
    )


class CertificateCredential(Strict):
    private_key: SecretRef = Field(description="PEM private key of the app's certificate")
    thumbprint: str = Field(
        pattern=r"^[0-9A-Fa-f]{40}$", description="SHA-1 thumbprint of the certificate (hex)"
    )


class PartnerCredential(Strict):
    """Exactly one of: a client secret, a certificate, or a federated client assertion (the
    OIDC token that GitHub Actions or Azure DevOps hands a job, read from env or file)."""

    secret: SecretRef | None = None
    certificate: CertificateCredential | None = None
    assertion: SecretRef | None = None
    not_after: DateOrMoment | None = Field(
        default=None,
        description="When the secret or certificate expires, as the app registration shows it "
        "(a date means the end of that day, UTC). `tenantctl connect check` warns 30 days ahead "
        "from the app registration itself when the app may read it (Application.Read.All); "
        "this date is for an app that may not.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PartnerCredential:
        given = [n for n in ("secret", "certificate", "assertion") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a credential needs exactly one of secret, certificate or assertion")
        return self


class PartnerConnection(Strict):
    """The multi-tenant app registration in the MSP's partner tenant."""

    tenant_id: Guid = Field(description="The partner tenant's id")
    client_id: Guid = Field(description="Application (client) id of the multi-tenant app")
    credential: PartnerCredential


class CippConnection(Strict):
    """The MSP's CIPP instance, reached with its own API client in the partner tenant."""

    base_url: HttpsUrl = Field(description="e.g. https://cipp.example.com")
    tenant_id: Guid = Field(description="The partner tenant's id (where CIPP's API app lives)")
    client_id: Guid = Field(description="Client id of CIPP's API client")
    secret: SecretRef


class Guards(Strict):
    """Per tenant, per run: above these counts the plan is refused unless overridden."""

    max_deletions: Count | None = None
    max_disables: Count | None = None
    max_member_removals: Count | None = None


DEFAULT_GUARDS = Guards(max_deletions=5, max_disables=10, max_member_removals=25)


def _kind_pattern(pattern: str) -> str:
    if not kinds_matching(pattern):
        raise ValueError(
            f"{pattern!r} names no operation kind (e.g. user.create, group.*); "
            "see `tenantctl validate --help` for the list"
        )
    return pattern


# A key of ``kinds``: validated one by one, so each unknown kind is reported at its own line.
KindPattern = Annotated[str, AfterValidator(_kind_pattern)]


class PolicyRules(Strict):
    """Decisions per operation kind (exact, or a glob such as ``group.*``) and guards."""

    kinds: dict[KindPattern, Decision] = Field(default_factory=dict)
    guards: Guards | None = None


# An OpenSSH Ed25519 public key as `ssh-keygen` prints it and GitHub lists it:
# "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI<43 more characters> [comment]". The base64 blob of
# an Ed25519 key is always 68 characters and starts with that prefix (the key type's name).
SSH_ED25519_PATTERN = r"^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}(?: [^\n\r]*)?$"


def _ssh_ed25519(value: str) -> str:
    if not re.fullmatch(SSH_ED25519_PATTERN, value):
        raise ValueError(
            "not an OpenSSH Ed25519 public key: expected 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5...' "
            "as the .pub file or `ssh-keygen -y -f KEY` shows it"
        )
    return value


SshEd25519Key = Annotated[
    str,
    AfterValidator(_ssh_ed25519),
    WithJsonSchema({"type": "string", "pattern": SSH_ED25519_PATTERN}),
]


class Approver(Strict):
    """A person whose signed approvals apply honours (``tenantctl approve --sign-with``)."""

    name: str = Field(
        min_length=1, max_length=200, description="As they approve: tenantctl approve --by NAME"
    )
    public_key: SshEd25519Key = Field(description="Their OpenSSH Ed25519 public key")


class Policy(PolicyRules):
    default: Decision = Field(
        default=Decision.APPROVE, description="Decision for kinds no rule names"
    )
    tenants: dict[Slug, PolicyRules] = Field(
        default_factory=dict, description="Overrides per tenant name"
    )
    approvers: list[Approver] = Field(
        default_factory=list,
        description="Who may sign approvals, with their public keys; protect this file with "
        "CODEOWNERS",
    )
    require_signed_approvals: Boolean = Field(
        default=False,
        description="apply honours only approvals signed by a listed approver under their name",
    )

    @model_validator(mode="after")
    def _approvers(self) -> Policy:
        names = [" ".join(a.name.split()).lower() for a in self.approvers]
        keys = [a.public_key.split()[1] for a in self.approvers]
        if len(set(names)) != len(names):
            raise ValueError("approvers: each name may be listed once")
        if len(set(keys)) != len(keys):
            raise ValueError("approvers: each public key may be listed once (one key, one person)")
        if self.require_signed_approvals and not self.approvers:
            raise ValueError(
                "requireSignedApprovals is true but no approvers are listed: list them with "
                "their public keys, or nothing could ever be approved"
            )
        return self


class Defaults(Strict):
    usage_location: CountryCode | None = None
    force_change_password_next_sign_in: Boolean = True


# A vault's data-plane URL in each cloud (Key Vault names: 3-24 letters, digits and hyphens).
KEY_VAULT_URL_PATTERN = (
    r"^https://[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]"
    r"\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)/?$"
)


class KeyVaultSink(Strict):
    """Azure Key Vault: one secret per generated password, with tags and an expiry."""

    url: str = Field(
        pattern=KEY_VAULT_URL_PATTERN,
        description="The vault's URL, https://NAME.vault.azure.net (the vault's 'Vault URI')",
    )
    credential: Literal["app", "managedIdentity"] = Field(
        default="app",
        description="app: the partner app's own credential, in the partner tenant (it needs "
        "Key Vault Secrets Officer on the vault, or an access policy with Set); "
        "managedIdentity: the runner's managed identity",
    )
    managed_identity_client_id: Guid | None = Field(
        default=None,
        description="Client id of a user-assigned managed identity (credential: managedIdentity)",
    )
    expires_in_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Each secret expires this many days after it was written (hand the "
        "password over before then)",
    )

    @model_validator(mode="after")
    def _identity(self) -> KeyVaultSink:
        if self.managed_identity_client_id is not None and self.credential != "managedIdentity":
            raise ValueError("managedIdentityClientId needs credential: managedIdentity")
        return self


class SecretSink(Strict):
    """Where generated passwords go: a local directory (the default: outside the repository,
    mode 0700), or Azure Key Vault, where they outlive an ephemeral CI runner or pod."""

    directory: str = Field(
        default="~/.tenantctl/secrets",
        description="The local directory (not used when keyVault is set)",
    )
    key_vault: KeyVaultSink | None = Field(
        default=None, description="Write each password to this vault instead of the directory"
    )


class PostgresJournal(Strict):
    dsn: SecretRef = Field(
        description="postgresql://USER:PASSWORD@HOST:PORT/DATABASE, from the environment or a "
        "file (the DSN carries a password: never write it here)"
    )


class Journal(Strict):
    """Where apply records its runs (tenantctl history reads it). Default: a SQLite file in
    the desired-state repository's .tenantctl/; a shared PostgreSQL database keeps one
    history for every runner, shard and replica, and holds the apply lock across them."""

    postgres: PostgresJournal | None = None


class MSPSpec(Strict):
    cloud: Cloud = "global"
    endpoints: Endpoints = Field(default_factory=Endpoints)
    ca_bundle: str | None = Field(
        default=None, description="PEM file of extra CA certificates to trust (private CAs)"
    )
    partner: PartnerConnection
    cipp: CippConnection | None = None
    policy: Policy = Field(default_factory=Policy)
    defaults: Defaults = Field(default_factory=Defaults)
    secret_sink: SecretSink = Field(default_factory=SecretSink)
    journal: Journal = Field(default_factory=Journal)


class MSPConfig(Strict):
    api_version: Literal["tenantctl/v1"] = Field(description=f"Always {API_VERSION}")
    kind: Literal["MSP"]
    metadata: Metadata
    spec: MSPSpec
