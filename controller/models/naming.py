"""Tenant names from display names: the one slug function (``discover`` and ``import`` both
name a GDAP customer with it, so "Müller GmbH" is ``muller`` in both); and the hint for a
tenant name an operator mistyped (:func:`unknown_tenants_message`).

Pure. The result is always a valid tenant name (:data:`~controller.models.common.Slug`):
lowercase ASCII letters, digits and single hyphens, at most 63 characters.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable

__all__ = [
    "LEGAL_FORMS",
    "MAX_NAME",
    "did_you_mean",
    "tenant_slug",
    "transliterate",
    "unknown_tenants_message",
]

MAX_NAME = 63

# Legal forms dropped from the end of a display name: "Contoso Ltd" -> contoso.
LEGAL_FORMS = frozenset(
    "inc incorporated ltd limited llc llp lp plc corp corporation co company gmbh ag sa sas "
    "sarl srl spa bv nv oy ab as aps pty kg".split()
)

# Latin letters that NFKD does not decompose into a base letter and marks.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "\u0131": "i",  # dotless i
    }
)
_WORD = re.compile(r"[a-z0-9]+")


def transliterate(text: str) -> str:
    """Lowercase, with accents dropped (NFKD, without the combining marks) and the Latin
    letters that do not decompose spelled out: ``Ørsted Straße`` -> ``orsted strasse``."""
    # Decomposed before lowercasing too: some letters only have a lowercase form once
    # decomposed (the mathematical double-struck capital S is S).
    lowered = unicodedata.normalize("NFKD", text).lower().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tenant_slug(display_name: str, taken: Collection[str] = (), tenant_id: str = "") -> str:
    """A tenant name for ``display_name``, unique against ``taken``: its words in ASCII,
    joined by hyphens, without a trailing legal form, cut at a word boundary
    (``Litware Inc`` -> ``litware``, or ``litware-2`` when ``litware`` is taken). A name with
    no Latin letter or digit becomes ``tenant-`` and the tenant id's first eight characters."""
    words = _WORD.findall(transliterate(display_name))
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    base = _fit(words, MAX_NAME)
    if not base:
        base = _fit(_WORD.findall(f"tenant {tenant_id.lower()[:8]}"), MAX_NAME)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_NAME - len(suffix)].rstrip("-") + suffix
    return candidate


def _fit(words: list[str], limit: int) -> str:
    """As many whole words as fit in ``limit`` characters (a longer first word is cut)."""
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > limit:
            break
        kept.append(word)
    if not kept and words:
        return words[0][:limit]
    while len(kept) > 1 and kept[-1] in LEGAL_FORMS:
        kept.pop()
    return "-".join(kept)


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known tenant name closest to a mistyped ``name`` (any case), if one is close."""
    close = difflib.get_close_matches(name.lower(), sorted(set(known)), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_tenants_message(unknown: Iterable[str], known: Collection[str], where: str) -> str:
    """``no tenant named 'contso' in <where>; did you mean 'contoso'?``: one hint per name,
    and the known names when there are few enough to read."""
    parts = []
    for name in unknown:
        hint = did_you_mean(name, known)
        parts.append(f"{name!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    text = f"no tenant named {', '.join(parts)} in {where}"
    if known and len(known) <= 12:
        text += f"; known: {', '.join(sorted(known))}"
    elif known:
        text += f"; {len(known)} tenants are known (tenantctl status lists them)"
    return text


_VAULT_NAME_MAX = 127
_NOT_IN_VAULT_NAMES = re.compile(r"[^0-9A-Za-z]+")


def key_vault_secret_name(tenant: str, upn: str, purpose: str) -> str:
    """The Key Vault secret that holds a generated password: ``tenantctl-<tenant>-<upn>-
    <purpose>`` in Key Vault's alphabet (``^[0-9a-zA-Z-]{1,127}$``: letters, digits, hyphens).
    ``@`` becomes ``-at-``; a name that had to be cut ends with a hash of what it stands for,
    so two long UPNs never share a secret. Deterministic: the plan names it before apply."""
    parts = [
        _NOT_IN_VAULT_NAMES.sub("-", part).strip("-").lower()
        for part in ("tenantctl", tenant, upn.replace("@", "-at-"), purpose)
    ]
    name = "-".join(p for p in parts if p)
    if len(name) <= _VAULT_NAME_MAX:
        return name
    digest = hashlib.sha256(f"{tenant}\0{upn}\0{purpose}".encode()).hexdigest()[:12]
    return f"{name[: _VAULT_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"
