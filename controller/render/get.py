"""``tenantctl get KIND`` for people: aligned columns, kubectl-style, a view of the same
document ``-o json`` prints (:mod:`controller.render.documents`).

``-o wide`` adds columns. The GIT column says where git declares the object (``file:line``,
``absent`` when git wants it deleted) or ``no``. Below the table, each tenant without items
says so (``No users in contoso.``) and everything that could not be read is listed with its
reason: an unknown area never looks like an empty one. Text from a tenant (names,
descriptions) is printed with its non-printable characters escaped (``\\n``, ``\\u202e``), so a
name cannot move the cursor, clear the screen or fake a row.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from controller.render._text import printable
from controller.render.documents import DeclaredAt, GetMembersReport, GetReport

__all__ = ["declared_cell", "render_get_names", "render_get_table"]


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[Any], str]
    wide_only: bool = False


def declared_cell(declared: DeclaredAt | None) -> str:
    """``desired/tenants/contoso.yaml:17``, ``... absent``, or ``no``."""
    if declared is None:
        return "no"
    where = declared.file or "declared"
    if declared.line is not None:
        where += f":{declared.line}"
    return where + (" absent" if declared.ensure == "absent" else "")


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _listed(values: Sequence[str] | None) -> str:
    if values is None:
        return "unknown"
    return ",".join(values) or "-"


def _count(value: int | None) -> str:
    return "unknown" if value is None else str(value)


def _text(value: str | None) -> str:
    return "-" if value is None or value == "" else value


_TENANT = _Column("TENANT", lambda i: i.tenant)
_GIT = _Column("GIT", lambda i: declared_cell(i.declared))
_ID = _Column("ID", lambda i: i.id, wide_only=True)

COLUMNS: dict[str, tuple[_Column, ...]] = {
    "users": (
        _TENANT,
        _Column("USER", lambda i: i.user_principal_name),
        _Column("DISPLAY NAME", lambda i: _text(i.display_name), wide_only=True),
        _Column("ENABLED", lambda i: _yes_no(i.account_enabled)),
        _Column("LOCATION", lambda i: _text(i.usage_location), wide_only=True),
        _Column("LICENCES", lambda i: _listed(i.licences)),
        _Column("MFA", lambda i: i.mfa),
        _Column("MFA CAPABLE", lambda i: _yes_no(i.mfa_capable), wide_only=True),
        _Column("RISK", lambda i: i.risk),
        _GIT,
        _ID,
    ),
    "groups": (
        _TENANT,
        _Column("NICKNAME", lambda i: _text(i.mail_nickname)),
        _Column("NAME", lambda i: _text(i.display_name)),
        _Column("TYPE", lambda i: i.type),
        _Column("MEMBERS", lambda i: _count(i.members)),
        _Column("DESCRIPTION", lambda i: _text(i.description), wide_only=True),
        _GIT,
        _ID,
    ),
    "members": (
        _TENANT,
        _Column("GROUP", lambda i: i.group),
        _Column("MEMBER", lambda i: _text(i.address)),
        _Column("DISPLAY NAME", lambda i: _text(i.display_name), wide_only=True),
        _Column("TYPE", lambda i: i.type),
        _GIT,
        _ID,
    ),
    "distribution-groups": (
        _TENANT,
        _Column("ADDRESS", lambda i: i.primary_smtp_address),
        _Column("NAME", lambda i: i.name),
        _Column("DISPLAY NAME", lambda i: _text(i.display_name), wide_only=True),
        _Column("ALIAS", lambda i: _text(i.alias), wide_only=True),
        _Column("MEMBERS", lambda i: _count(i.members)),
        _GIT,
        _ID,
    ),
    "shared-mailboxes": (
        _TENANT,
        _Column("ADDRESS", lambda i: i.primary_smtp_address),
        _Column("NAME", lambda i: i.name, wide_only=True),
        _Column("DISPLAY NAME", lambda i: _text(i.display_name), wide_only=True),
        _Column("FULL ACCESS", lambda i: _listed(i.full_access)),
        _Column("SEND AS", lambda i: _listed(i.send_as)),
        _Column("SEND ON BEHALF", lambda i: _listed(i.send_on_behalf)),
        _GIT,
        _ID,
    ),
    "licences": (
        _TENANT,
        _Column("SKU", lambda i: i.sku_part_number),
        _Column("USED", lambda i: str(i.consumed)),
        _Column("TOTAL", lambda i: str(i.enabled)),
        _Column("AVAILABLE", lambda i: str(i.available)),
        _GIT,
        _Column("SKU ID", lambda i: i.sku_id, wide_only=True),
    ),
    "consent": (
        _TENANT,
        _Column("PERMISSION", lambda i: i.permission),
        _Column("REQUIRED", lambda i: "yes" if i.required else "optional"),
        _Column("GRANTED", lambda i: _yes_no(i.granted)),
        _GIT,
    ),
    "gdap": (
        _TENANT,
        _Column("RELATIONSHIP", lambda i: i.relationship),
        _Column("STATUS", lambda i: i.status),
        _Column("ENDS", lambda i: (i.ends or "-")[:10]),
        _Column("AUTO EXTEND", lambda i: _yes_no(i.auto_extend), wide_only=True),
        _Column("ROLES", lambda i: _listed(i.roles)),
        _GIT,
        _ID,
    ),
}
_NUMERIC = frozenset({"MEMBERS", "USED", "TOTAL", "AVAILABLE"})
# The area whose absence from ``unknown`` makes "no items" mean "none there".
_AREA = {
    "users": "users",
    "groups": "groups",
    "distribution-groups": "distributionGroups",
    "shared-mailboxes": "sharedMailboxes",
    "licences": "licences",
    "consent": "consent",
    "gdap": "gdap",
}


def render_get_table(document: GetReport, *, wide: bool = False) -> str:
    """The items as aligned columns, then what each tenant lacks and what could not be read."""
    columns = [c for c in COLUMNS[document.kind] if wide or not c.wide_only]
    rows = [tuple(printable(c.cell(item)) for c in columns) for item in document.items]
    lines: list[str] = []
    if rows:
        table = [tuple(c.header for c in columns), *rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
        for row in table:
            cells = [
                cell.rjust(width) if columns[i].header in _NUMERIC else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
    lines += _notes(document)
    return "\n".join(lines) + "\n" if lines else ""


def _notes(document: GetReport) -> list[str]:
    notes: list[str] = []
    with_items = {item.tenant for item in document.items}
    if isinstance(document, GetMembersReport):
        notes += [f"{t}: no group named {printable(document.group)}" for t in document.not_found]
        silent = set(document.not_found)
        unread = {u.tenant for u in document.unknown}
        notes += [
            f"No members in {printable(document.group)} in {t}."
            for t in document.tenants
            if t not in with_items | silent | unread
        ]
    else:
        area = _AREA[document.kind]
        unread = {u.tenant for u in document.unknown if u.area == area and u.subject is None}
        label = document.kind.replace("-", " ")
        notes += [
            f"No {label} in {t}."
            for t in document.tenants
            if t not in with_items and t not in unread
        ]
    for u in document.unknown:
        of = f" of {u.subject}" if u.subject else ""
        notes.append(f"{u.tenant}: {u.area}{of} unknown ({u.code}): {u.reason}")
    if not document.tenants:
        notes.append("No tenant selected.")
    return [printable(note) for note in notes]


def render_get_names(document: GetReport) -> str:
    """``-q``: one ``tenant/name`` per item (the object's key), for scripts."""
    names = [f"{item.tenant}/{_name(document.kind, item)}" for item in document.items]
    return "".join(printable(name) + "\n" for name in names)


def _name(kind: str, item: Any) -> str:
    match kind:
        case "users":
            return str(item.user_principal_name)
        case "groups":
            return str(item.mail_nickname or item.id)
        case "members":
            return str(item.address or item.id)
        case "distribution-groups" | "shared-mailboxes":
            return str(item.primary_smtp_address)
        case "licences":
            return str(item.sku_part_number)
        case "consent":
            return str(item.permission)
        case _:
            return str(item.id)
