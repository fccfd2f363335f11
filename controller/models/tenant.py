"""``kind: Tenant``: the desired state of one customer tenant.

A field left out is not managed: tenantctl neither compares nor changes it. A list left out
(``members``, ``licenses``, ``fullAccess``) is not managed either; an empty list means
"exactly none". Deleting needs ``ensure: absent`` on the object.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, model_validator

from controller.models.common import (
    Boolean,
    CountryCode,
    DateOrMoment,
    Domain,
    Ensure,
    Guid,
    MailNickname,
    Membership,
    Slug,
    SmtpAddress,
    Strict,
    Upn,
    unset,
)
from controller.models.msp import PolicyRules

ConsentMode = Literal["granted", "unmanaged"]
ExchangeMode = Literal["direct", "cipp", "auto", "none", "unmanaged"]
EXCHANGE_MANAGING_MODES = ("direct", "cipp", "auto")

# Members and permission holders are named by address: a declared user's UPN, a declared
# distribution group's or shared mailbox's primary SMTP address, or an existing principal.
Address = SmtpAddress


# Labels, as Kubernetes spells them without a prefix: profiles select tenants by them.
LABEL_PATTERN = "^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = "^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$"
_LABEL = re.compile(LABEL_PATTERN)
_LABEL_VALUE = re.compile(LABEL_VALUE_PATTERN)
_LABEL_RULE = (
    "letters, digits, '.', '_' and '-', at most 63, starting and ending with a letter or digit"
)


def _label_key(value: str) -> str:
    if not _LABEL.fullmatch(value):
        raise ValueError(f"{value!r} is not a label name: use {_LABEL_RULE}")
    return value


def _label_value(value: str) -> str:
    if not _LABEL_VALUE.fullmatch(value):
        raise ValueError(f"{value!r} is not a label value: use {_LABEL_RULE} (or nothing)")
    return value


# Taken as written (``'gold '`` is not ``gold``), as the schema's pattern judges them.
_AS_WRITTEN = StringConstraints(strip_whitespace=False)
LabelKey = Annotated[
    str,
    _AS_WRITTEN,
    AfterValidator(_label_key),
    WithJsonSchema({"type": "string", "pattern": LABEL_PATTERN}),
]
LabelValue = Annotated[
    str,
    _AS_WRITTEN,
    AfterValidator(_label_value),
    WithJsonSchema({"type": "string", "pattern": LABEL_VALUE_PATTERN}),
]
# Stated whole for the JSON Schema: pydantic would write patternProperties, which lets a key
# that matches no pattern through.
Labels = Annotated[
    dict[LabelKey, LabelValue],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": LABEL_PATTERN},
            "additionalProperties": {"type": "string", "pattern": LABEL_VALUE_PATTERN},
        }
    ),
]


class TenantMetadata(Strict):
    name: Slug = Field(description="Short name, unique across the estate (e.g. contoso)")
    tenant_id: Guid
    domains: list[Domain] = Field(
        min_length=1, description="Verified domains; addresses must use one of them"
    )
    display_name: str | None = None
    labels: Labels = Field(
        default_factory=dict,
        description="name: value pairs that profiles select tenants by (e.g. tier: gold)",
    )


def _require_when_present(obj: Strict, ensure: str, *fields: str) -> None:
    if ensure == "present":
        missing = [f for f in fields if getattr(obj, f) is None]
        if missing:
            names = ", ".join(type(obj).model_fields[f].alias or f for f in missing)
            raise ValueError(f"{names} is required unless ensure is absent")


class User(Strict):
    user_principal_name: Upn
    display_name: str | None = Field(default=None, min_length=1, max_length=256)
    mail_nickname: MailNickname | None = Field(
        default=None, description="Defaults to the part of the UPN before @"
    )
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    account_enabled: Boolean | None = Field(
        default=None, description="Unmanaged when omitted; new users are created enabled"
    )
    usage_location: CountryCode | None = None
    licenses: list[str] | None = Field(
        default=None, description="skuPartNumbers (e.g. SPE_E3), exactly these when given"
    )
    ensure: Ensure = "present"

    @model_validator(mode="after")
    def _present_needs_name(self) -> User:
        _require_when_present(self, self.ensure, "display_name")
        return self


class Group(Strict):
    """An Entra security or Microsoft 365 group (managed through Graph)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=256)
    mail_nickname: MailNickname
    type: Literal["security", "microsoft365"] = "security"
    description: str | None = None
    members: list[Address] | None = None
    membership: Membership = Field(
        default="exact", description="exact: unlisted members are removed; additive: kept"
    )
    ensure: Ensure = "present"

    @model_validator(mode="after")
    def _present_needs_name(self) -> Group:
        _require_when_present(self, self.ensure, "display_name")
        return self


class DistributionGroup(Strict):
    """An Exchange distribution group (Graph cannot write these)."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    display_name: str | None = None
    primary_smtp_address: SmtpAddress
    alias: MailNickname | None = None
    members: list[Address] | None = None
    membership: Membership = "exact"
    ensure: Ensure = "present"

    @model_validator(mode="after")
    def _present_needs_name(self) -> DistributionGroup:
        _require_when_present(self, self.ensure, "name")
        return self


class SharedMailbox(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    display_name: str | None = None
    primary_smtp_address: SmtpAddress
    alias: MailNickname | None = None
    full_access: list[Address] | None = None
    send_as: list[Address] | None = None
    send_on_behalf: list[Address] | None = None
    permissions: Membership = Field(
        default="exact", description="exact: unlisted holders lose the permission; additive: kept"
    )
    ensure: Ensure = "present"

    @model_validator(mode="after")
    def _present_needs_name(self) -> SharedMailbox:
        _require_when_present(self, self.ensure, "name")
        return self


class ResetPassword(Strict):
    user: Upn
    force_change_at_next_sign_in: Boolean = True


ACTION_TYPES = ("reset_password",)


class Action(Strict):
    """A one-shot operation. It runs at most once, ever, identified by ``id``."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    not_after: DateOrMoment | None = Field(
        default=None,
        description="After this moment (or after this day, UTC) the action is reported, not run",
    )
    reset_password: ResetPassword | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [t for t in ACTION_TYPES if getattr(self, t) is not None]
        if len(given) != 1:
            raise ValueError("an action needs exactly one of: resetPassword")
        return self

    @property
    def target(self) -> str:
        assert self.reset_password is not None
        return self.reset_password.user


class MfaCheck(Strict):
    require: Literal["registered", "capable"] = "registered"
    except_: list[Address] = Field(default_factory=list, alias="except")
    ensure: Ensure = Field(
        default="present", description="absent: not checked (e.g. a profile's check, removed)"
    )


class RiskyUsersCheck(Strict):
    max_risk_level: Literal["none", "low", "medium", "high"] = "low"
    except_: list[Address] = Field(default_factory=list, alias="except")
    ensure: Ensure = Field(
        default="present", description="absent: not checked (e.g. a profile's check, removed)"
    )


class Checks(Strict):
    mfa: MfaCheck | None = None
    risky_users: RiskyUsersCheck | None = None

    @model_validator(mode="after")
    def _absent_is_unchecked(self) -> Checks:
        # ``ensure: absent`` removes a check (one a profile declares): the planner then sees
        # no check at all, exactly as if none had been declared.
        for name in ("mfa", "risky_users"):
            check = getattr(self, name)
            if check is not None and check.ensure == "absent":
                object.__setattr__(self, name, None)
                unset(self, name)
        return self


class TenantSpec(Strict):
    profiles: list[Slug] = Field(
        default_factory=list,
        description="Profiles (desired/profiles/*.yaml) this tenant takes, applied in this order",
    )
    consent: ConsentMode = Field(
        default="granted", description="granted: plan consent when the app lacks it"
    )
    exchange: ExchangeMode = Field(
        default="unmanaged",
        description=(
            "direct: Exchange admin REST with the Exchange Administrator role; cipp: through "
            "CIPP; auto: direct when it works, else CIPP; none / unmanaged: no Exchange objects"
        ),
    )
    existing_principals: list[Address] = Field(
        default_factory=list,
        description="Principals that exist in the tenant but are not declared here "
        "(e.g. an admin account); members and permission holders may name them",
    )
    users: list[User] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    distribution_groups: list[DistributionGroup] = Field(default_factory=list)
    shared_mailboxes: list[SharedMailbox] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    checks: Checks = Field(default_factory=Checks)
    policy: PolicyRules | None = None


class TenantConfig(Strict):
    api_version: Literal["tenantctl/v1"]
    kind: Literal["Tenant"]
    metadata: TenantMetadata
    spec: TenantSpec = Field(default_factory=TenantSpec)
