"""Building blocks shared by the MSP and Tenant models: the strict base model, formats
(GUID, UPN, SMTP address, domain, mailNickname, country code, https URL, date or moment),
strict booleans and counts, and secret references.

Pure: no I/O. Validators raise ``ValueError`` with a message written for an MSP engineer;
the loader puts the file, line and column in front of it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NoReturn, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

API_VERSION = "tenantctl/v1"

Ensure = Literal["present", "absent"]
Membership = Literal["exact", "additive"]


#: What tenantctl writes (plans, approval records, outcomes, the documents of ``-o json``):
#: camelCase keys in JSON, as in the YAML; field names in Python. Unknown keys are errors.
CAMEL_CASE = ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    frozen=True,
)


class SharedFieldNames(set[str]):
    """The names of the fields a model was given (pydantic's ``model_fields_set``), one
    object for every model given the same names.

    pydantic keeps a set per model; with five names or more it is 728 bytes, more than the
    model's values: 39 of the 87 KB a tenant of 50 users takes (``bench/README.md``,
    "Scale and memory"). Desired-state models are frozen, so the names never change after
    validation; a copy (``model_copy``) gets a set of its own, and changing a shared one in
    place is refused rather than changing every model that shares it.
    """

    def _refuse(self, *args: object) -> NoReturn:
        raise TypeError("shared field names: replace the set, do not change it in place")

    add = discard = remove = pop = clear = update = _refuse
    difference_update = intersection_update = symmetric_difference_update = _refuse
    __ior__ = __iand__ = __isub__ = __ixor__ = _refuse

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: object) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[type[set[str]], tuple[list[str]]]:
        return set, (list(self),)


_FIELD_NAMES: dict[frozenset[str], SharedFieldNames] = {}


def shared_field_names(names: set[str]) -> SharedFieldNames:
    """The one :class:`SharedFieldNames` holding ``names`` (a handful of combinations exist:
    the fields a model is written with)."""
    key = frozenset(names)
    shared = _FIELD_NAMES.get(key)
    if shared is None:
        shared = _FIELD_NAMES.setdefault(key, SharedFieldNames(key))
    return shared


def unset(model: BaseModel, *names: str) -> None:
    """Take ``names`` out of the fields ``model`` counts as given (``model_fields_set``), so
    that ``exclude_unset`` leaves them out, as a new set: it may share the one it has."""
    given = model.model_fields_set - set(names)
    object.__setattr__(model, "__pydantic_fields_set__", shared_field_names(given))


class SharingFieldNames(BaseModel):
    """A frozen model whose field names given (``model_fields_set``) are a
    :class:`SharedFieldNames`, validated or copied."""

    def model_post_init(self, context: Any, /) -> None:
        object.__setattr__(
            self, "__pydantic_fields_set__", shared_field_names(self.__pydantic_fields_set__)
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        copied.model_post_init(None)
        return copied


class Strict(SharingFieldNames):
    """Base of every desired-state model: unknown fields are errors, YAML keys are camelCase."""

    model_config = ConfigDict(**CAMEL_CASE, str_strip_whitespace=True)


# --- formats -----------------------------------------------------------------------------

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# Entra allows these in the part of a UPN before the @ (and no leading or trailing period).
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'._!#^~-]{1,64}$")
# RFC 5322 atext plus dots, which Exchange accepts in a primary SMTP address.
_SMTP_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_NICKNAME_FORBIDDEN = set(' @()[]";:.<>,\\')
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

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


Domain = Annotated[str, AfterValidator(_domain)]
Upn = Annotated[str, AfterValidator(_upn)]
SmtpAddress = Annotated[str, AfterValidator(_smtp)]
MailNickname = Annotated[str, AfterValidator(_mail_nickname)]
CountryCode = Annotated[str, AfterValidator(_country)]
Slug = Annotated[str, AfterValidator(_slug)]


def address_domain(address: str) -> str:
    """The domain of a UPN or SMTP address, lowercased."""
    return address.rpartition("@")[2].lower()


# --- values that the JSON Schema judges the same way ----------------------------------------
#
# schemas/*.json are generated from these models, and editors and CI check the same files
# with them. pydantic's lax mode accepts more than those schemas do (`yes`, `off`, 1 and
# "false" as booleans, true and "3" as integers, a moment without a time zone, ' x ' stripped
# to 'x' before a pattern is matched), so these types are strict. Each format is one pattern
# that the loader matches in full and the schema states, so the two cannot drift apart; the
# patterns use only what Python's re and ECMA-262 (editors, check-jsonschema) read alike:
# ASCII classes, no \d or \s.

# A formatted value is taken as written: stripping ' x ' to 'x' would accept what the
# schema's pattern rejects.
_VERBATIM = StringConstraints(strip_whitespace=False)


def shown_value(value: Any) -> str:
    """A value as the YAML file spells it, for messages: true, null, the number 1, 'yes'."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else repr(value)


Boolean = StrictBool  # true or false; YAML 1.1's yes/no/on/off, 1/0 and 'true' are not


def _whole_number(value: Any) -> Any:
    # JSON Schema's "integer" is any number without a fraction: 5.0 (a float in YAML) is one,
    # true and the text "5" are not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The bound comes before the validator so that the schema states it as "minimum".
Count = Annotated[StrictInt, Field(ge=0), BeforeValidator(_whole_number)]

NIL_GUID = "00000000-0000-0000-0000-000000000000"
_HEX = "[0-9A-Fa-f]"
GUID_PATTERN = (
    f"^(?!{NIL_GUID}$){_HEX}{{8}}-(?:{_HEX}{{4}}-){{3}}{_HEX}{{12}}$"  # the nil GUID: a placeholder
)
_GUID = re.compile(GUID_PATTERN)


def _guid(value: str) -> str:
    if _GUID.fullmatch(value):
        return value.lower()
    if value == NIL_GUID:
        raise ValueError(
            f"{NIL_GUID} is the nil GUID, a placeholder and no tenant's or app's id: copy the "
            "real one from the Entra admin center (Overview, or the app registration)"
        )
    raise ValueError(f"{value!r} is not a GUID (expected 8-4-4-4-12 hexadecimal digits)")


Guid = Annotated[
    str,
    _VERBATIM,
    AfterValidator(_guid),
    WithJsonSchema({"type": "string", "pattern": GUID_PATTERN}),
]

# https://host[:port][/path][?query][#fragment]; the host part has no room for user:password@.
HTTPS_URL_PATTERN = (
    r"^https://(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"
)
_HTTPS_URL = re.compile(HTTPS_URL_PATTERN)


def _https_url(value: str) -> str:
    if _HTTPS_URL.fullmatch(value):
        return value
    authority = re.split("[/?#]", value.partition("://")[2] or value, maxsplit=1)[0]
    if "@" in authority:
        # Not echoed: what stands before @ is a password. httpx would send it as basic
        # authentication, and `-v` logs every URL it calls.
        raise ValueError(
            "the URL holds a user name or password (before @): remove them; tenantctl signs "
            "in with the app's own credential, and URLs are written to logs"
        )
    raise ValueError(f"{value!r} is not an https URL (expected https://host[:port][/path])")


HttpsUrl = Annotated[
    str,
    _VERBATIM,
    AfterValidator(_https_url),
    WithJsonSchema({"type": "string", "pattern": HTTPS_URL_PATTERN}),
]

# RFC 3339, as JSON Schema's "date" and "date-time" formats: a moment needs its offset.
_DAY = "(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]+)?"
DATE_PATTERN = f"^{_DAY}$"
MOMENT_PATTERN = f"^{_DAY}[Tt]{_TIME}(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
_DATE = re.compile(DATE_PATTERN)
_MOMENT = re.compile(MOMENT_PATTERN)
_LOCAL_TIME = re.compile(f"{_DAY}[Tt ][0-9:.]*")  # only for the message
_DATE_OR_MOMENT = "a date (2026-12-31) or a moment with a time zone (2026-12-31T08:00:00Z)"


def _date_or_moment(value: Any) -> dt.datetime | dt.date:
    if isinstance(value, dt.datetime):  # from Python, not from YAML
        if value.utcoffset() is None:
            raise ValueError(f"expected {_DATE_OR_MOMENT}, not a moment without a time zone")
        return value
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected {_DATE_OR_MOMENT}, not {shown_value(value)}")
    try:
        if _DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
        if _MOMENT.fullmatch(value):
            # Python 3.11 reads only the upper-case T and Z that RFC 3339 lets one lower.
            return dt.datetime.fromisoformat(value.upper())
    except ValueError:  # a day the month does not have
        raise ValueError(f"{value!r} is not a day in the calendar") from None
    if _LOCAL_TIME.fullmatch(value):
        raise ValueError(
            f"{value!r} has no time zone, so it means a different moment on every machine: "
            "add Z for UTC or an offset (2026-12-31T08:00:00Z, 2026-12-31T08:00:00+01:00)"
        )
    raise ValueError(f"{value!r} is not {_DATE_OR_MOMENT}")


# pydantic's own parsing never sees the text: it would take a moment without a time zone, or
# a number as seconds since 1970. It gets only what _date_or_moment returned.
DateOrMoment = Annotated[
    dt.datetime | dt.date,
    BeforeValidator(_date_or_moment),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN},
                {"type": "string", "format": "date", "pattern": DATE_PATTERN},
            ]
        }
    ),
]


def until(limit: dt.datetime | dt.date) -> dt.datetime:
    """The moment a :data:`DateOrMoment` ends: a date alone means "until the end of that day,
    UTC" (a moment always carries its time zone: the loader refuses one without)."""
    if isinstance(limit, dt.datetime):
        return limit
    return dt.datetime.combine(limit, dt.time(), dt.UTC) + dt.timedelta(days=1)


# --- secrets -----------------------------------------------------------------------------

LITERAL_SECRET = "secrets must not be stored in YAML; use {env: NAME} or {file: PATH}"


ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
_ENV_NAME = re.compile(ENV_NAME_PATTERN)
# Checked in SecretRef._exactly_one, where the message can avoid echoing a pasted secret.
EnvName = Annotated[str, _VERBATIM, WithJsonSchema({"type": "string", "pattern": ENV_NAME_PATTERN})]


def _secret_path(value: str) -> str:
    if not value:
        raise ValueError("the path is empty: give the path of the file that holds the secret")
    return value


# Taken as written: a path may end in a space, however unlikely.
SecretPath = Annotated[
    str,
    _VERBATIM,
    AfterValidator(_secret_path),
    WithJsonSchema({"type": "string", "minLength": 1}),
]


class SecretRef(Strict):
    """Where a secret comes from: an environment variable or a file. Never the secret itself.

    Resolved only when a connection needs it (``controller.secrets.resolve_secret``).
    """

    # Exactly one of the two is a string; the other is left out (or null). Said here for the
    # JSON Schema; ``_exactly_one`` says it to the loader.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("env", "file")
            ]
        }
    )

    env: EnvName | None = Field(default=None, description="Name of an environment variable")
    file: SecretPath | None = Field(default=None, description="Path of a file holding the secret")

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
        if self.env is not None and not _ENV_NAME.fullmatch(self.env):
            raise ValueError(
                "env must name an environment variable (letters, digits and _, not starting "
                "with a digit), not hold the secret itself"
            )
        return self

    def describe(self) -> str:
        """A printable name of the reference (never the value): ``env:NAME`` or ``file:PATH``."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"
