"""The one-shot action ledger: what a user's open extension ``com.tenantctl.actions`` says
about the actions run against that user, as a value.

It lives with the tenant (not in a local file) so an action runs at most once even when every
apply runs on a fresh CI machine. Graph bounds it (concepts/extensibility-overview.md in
microsoftgraph/microsoft-graph-docs-contrib: two open extensions per app per object, at most
2 KB each, properties of primitive types or arrays of them; an update replaces every
property), so it holds ids and states only, compactly::

    {"v": 1, "started": ["3f9a0c1e"], "done": ["8b1d2e4f~20261231", "a0c3..."]}

An entry is the first 8 hex digits of the sha256 of the action id (ids may be 128 characters
long), followed by ``~YYYYMMDD`` when the action has a ``notAfter``: after that day the action
can never run again, so its entry is pruned the next time the ledger is written. An action
without ``notAfter`` keeps its entry for ever: 100 of them take about 1.1 KB.

``started`` is written before the reset and ``done`` after it. A definite failure (Graph
refused the reset, the password could not be stored) removes the entry; a crash between the
call and the record leaves ``started``, which the plan shows as "may have run: verify".

Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "LEDGER_FORMAT",
    "MAX_LEDGER_BYTES",
    "ActionState",
    "Ledger",
    "LedgerFull",
    "action_key",
    "prune_day",
]

LEDGER_FORMAT = 1
#: Graph's limit for one open extension on a directory object.
MAX_LEDGER_BYTES = 2048


class ActionState(StrEnum):
    STARTED = "started"  # written before the call: it may have run
    DONE = "done"  # written after the call succeeded


class LedgerFull(ValueError):
    """The ledger would not fit Graph's 2 KB: nothing is written and nothing is run."""


def action_key(action_id: str) -> str:
    """How the ledger names an action: 8 hex digits of the sha256 of its id."""
    return hashlib.sha256(action_id.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class _Entry:
    state: ActionState
    prune_after: dt.date | None = None

    def text(self, key: str) -> str:
        return key if self.prune_after is None else f"{key}~{self.prune_after:%Y%m%d}"


@dataclass(frozen=True)
class Ledger:
    """The entries by action key."""

    entries: Mapping[str, _Entry] = field(default_factory=dict)

    # --- reading -------------------------------------------------------------------------

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any] | None) -> Ledger:
        """The ledger in an extension's properties (None: no extension yet). Unreadable
        entries are dropped; an earlier format (``actions: {id: {startedAt, doneAt}}``) is
        read as the states it meant."""
        if not properties:
            return cls()
        entries: dict[str, _Entry] = {}
        for state in (ActionState.STARTED, ActionState.DONE):
            for text in properties.get(state.value) or ():
                key, prune_after = _parse(text)
                if key is not None:
                    entries[key] = _Entry(state, prune_after)
        old = properties.get("actions")
        if isinstance(old, Mapping):
            for action_id, record in old.items():
                done = isinstance(record, Mapping) and bool(record.get("doneAt"))
                state = ActionState.DONE if done else ActionState.STARTED
                entries.setdefault(action_key(str(action_id)), _Entry(state))
        return cls(entries)

    def state_of(self, action_id: str) -> ActionState | None:
        entry = self.entries.get(action_key(action_id))
        return entry.state if entry is not None else None

    # --- changing (new values) -------------------------------------------------------------

    def with_state(
        self, action_id: str, state: ActionState, *, prune_after: dt.date | None
    ) -> Ledger:
        return Ledger({**self.entries, action_key(action_id): _Entry(state, prune_after)})

    def without(self, action_id: str) -> Ledger:
        key = action_key(action_id)
        return Ledger({k: v for k, v in self.entries.items() if k != key})

    def pruned(self, today: dt.date) -> Ledger:
        """Without the entries of actions that expired before ``today``."""
        return Ledger(
            {
                k: v
                for k, v in self.entries.items()
                if v.prune_after is None or v.prune_after >= today
            }
        )

    # --- writing -------------------------------------------------------------------------

    def properties(self) -> dict[str, Any]:
        """The extension's properties (all of them: an update replaces the set)."""
        by_state: dict[ActionState, list[str]] = {s: [] for s in ActionState}
        for key, entry in sorted(self.entries.items()):
            by_state[entry.state].append(entry.text(key))
        return {"v": LEDGER_FORMAT, **{s.value: by_state[s] for s in ActionState}}

    @property
    def size(self) -> int:
        """Bytes of the properties as compact JSON: what Graph's 2 KB limit counts."""
        return len(json.dumps(self.properties(), separators=(",", ":")).encode("utf-8"))

    def checked(self) -> Ledger:
        """This ledger, or :class:`LedgerFull` when it does not fit an open extension."""
        if self.size > MAX_LEDGER_BYTES:
            raise LedgerFull(
                f"the action ledger would be {self.size} bytes, over Graph's "
                f"{MAX_LEDGER_BYTES} for an open extension: give old actions a notAfter (they "
                "are pruned after it) or remove them from the tenant file"
            )
        return self


def prune_day(not_after: dt.date | dt.datetime | None) -> dt.date | None:
    """The last day an action with ``not_after`` could run (its entry is kept until then)."""
    if not_after is None:
        return None
    if isinstance(not_after, dt.datetime):
        return not_after.astimezone(dt.UTC).date()
    return not_after


def _parse(text: object) -> tuple[str | None, dt.date | None]:
    if not isinstance(text, str):
        return None, None
    key, _, day = text.partition("~")
    if len(key) != 8 or any(c not in "0123456789abcdef" for c in key):
        return None, None
    if not day:
        return key, None
    try:
        return key, dt.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return key, None
