"""Building blocks shared by the MSP and Tenant models: the strict base model, formats
(GUID, UPN, SMTP address, domain, mailNickname, country code) and secret references.

Pure: no I/O. Validators raise ``ValueError`` with a message written for an MSP engineer;
the loader puts the file, line and column in front of it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

API_VERSION = "tenantctl/v1"

Ensure = Literal["present", "absent"]
Membership = Literal["exact", "additive"]


class Strict(BaseModel):
    """Base of every desired-state model: unknown fields are errors, YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        str_strip_whitespace=True,
    )


# --- formats -----------------------------------------------------------------------------

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# Entra allows these in the part of a UPN before the @ (and no leading or trailing period).
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'._!#^~-]{1,64}$")
# RFC 5322 atext plus dots, which Exchange accepts in a primary SMTP address.
_SMTP_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_NICKNAME_FORBIDDEN = set(' @()[]";:.<>,\\')
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# ISO 3166-1 alpha-2, as Entra's usageLocation expects.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()
)


def _guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError(f"{value!r} is not a GUID (expected 8-4-4-4-12 hexadecimal digits)")
    return value.lower()


def _domain(value: str) -> str:
    if not _DOMAIN.match(value):
        raise ValueError(f"{value!r} is not a valid domain name")
    return value


def _split_address(value: str, what: str) -> tuple[str, str]:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{value!r} is not a valid {what} (expected name@domain)")
    if not _DOMAIN.match(domain):
        raise ValueError(f"{value!r} is not a valid {what}: {domain!r} is not a domain name")
    return local, domain


def _upn(value: str) -> str:
    local, _ = _split_address(value, "user principal name")
    if not _UPN_LOCAL.match(local) or local.startswith(".") or local.endswith("."):
        raise ValueError(
            f"{value!r} is not a valid user principal name: the part before @ may hold "
            "letters, digits and ' . - _ ! # ^ ~ (at most 64, not starting or ending with .)"
        )
    return value


def _smtp(value: str) -> str:
    local, _ = _split_address(value, "SMTP address")
    if not _SMTP_LOCAL.match(local) or local.startswith(".") or ".." in local:
        raise ValueError(f"{value!r} is not a valid SMTP address")
    return value


def _mail_nickname(value: str) -> str:
    if not value or len(value) > 64:
        raise ValueError("mailNickname must be 1 to 64 characters")
    if not value.isascii():
        raise ValueError(f"mailNickname {value!r} must be ASCII")
    bad = sorted(set(value) & _NICKNAME_FORBIDDEN)
    if bad:
        shown = " ".join("space" if c == " " else c for c in bad)
        raise ValueError(f"mailNickname {value!r} must not contain {shown}")
    return value


def _country(value: str) -> str:
    if value.upper() not in COUNTRY_CODES or len(value) != 2:
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (e.g. US, GB, DE)")
    return value.upper()


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and hyphens "
            "(at most 63, not starting or ending with a hyphen)"
        )
    return value


Guid = Annotated[str, AfterValidator(_guid)]
Domain = Annotated[str, AfterValidator(_domain)]
Upn = Annotated[str, AfterValidator(_upn)]
SmtpAddress = Annotated[str, AfterValidator(_smtp)]
MailNickname = Annotated[str, AfterValidator(_mail_nickname)]
CountryCode = Annotated[str, AfterValidator(_country)]
Slug = Annotated[str, AfterValidator(_slug)]
HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s/$.?#][^\s]*$")]


def address_domain(address: str) -> str:
    """The domain of a UPN or SMTP address, lowercased."""
    return address.rpartition("@")[2].lower()


# --- secrets -----------------------------------------------------------------------------

LITERAL_SECRET = "secrets must not be stored in YAML; use {env: NAME} or {file: PATH}"


class SecretRef(Strict):
    """Where a secret comes from: an environment variable or a file. Never the secret itself.

    Resolved only when a connection needs it (``controller.secrets.resolve_secret``).
    """

    env: str | None = Field(default=None, description="Name of an environment variable")
    file: str | None = Field(default=None, description="Path of a file holding the secret")

    @model_validator(mode="before")
    @classmethod
    def _reject_literal(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(LITERAL_SECRET)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of env or file")
        # The value is not echoed: someone may have pasted the secret itself here.
        if self.env is not None and not _ENV_NAME.match(self.env):
            raise ValueError(
                "env must name an environment variable (letters, digits and _, not starting "
                "with a digit), not hold the secret itself"
            )
        return self

    def describe(self) -> str:
        """A printable name of the reference (never the value): ``env:NAME`` or ``file:PATH``."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"
