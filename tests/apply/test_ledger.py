"""The one-shot action ledger as a value: compact entries (8 hex digits of the action id's
hash, and the prune day), states started and done, pruning by notAfter, the earlier format
read, and Graph's 2 KB limit: 100 actions on one user fit, more than fit refuse."""

from __future__ import annotations

import datetime as dt

import pytest

from controller.models.ledger import (
    MAX_LEDGER_BYTES,
    ActionState,
    Ledger,
    LedgerFull,
    action_key,
    prune_day,
)

DAY = dt.date(2026, 12, 31)


def test_entries_are_ids_and_states_only() -> None:
    ledger = (
        Ledger()
        .with_state("2026-11-26-reset-bob", ActionState.STARTED, prune_after=None)
        .with_state("other", ActionState.DONE, prune_after=DAY)
    )
    assert ledger.properties() == {
        "v": 1,
        "started": [action_key("2026-11-26-reset-bob")],
        "done": [f"{action_key('other')}~20261231"],
    }
    read = Ledger.from_properties(ledger.properties())
    assert read == ledger
    assert read.state_of("2026-11-26-reset-bob") is ActionState.STARTED
    assert read.state_of("other") is ActionState.DONE
    assert read.state_of("never") is None
    assert read.without("other").state_of("other") is None


def test_expired_entries_are_pruned_after_their_day() -> None:
    ledger = Ledger().with_state("a", ActionState.DONE, prune_after=DAY)
    ledger = ledger.with_state("b", ActionState.DONE, prune_after=None)
    assert ledger.pruned(DAY).state_of("a") is ActionState.DONE  # kept through that day
    assert ledger.pruned(DAY + dt.timedelta(days=1)).state_of("a") is None
    assert ledger.pruned(dt.date(2999, 1, 1)).state_of("b") is ActionState.DONE


def test_the_prune_day_of_a_moment_is_its_utc_day() -> None:
    moment = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert prune_day(moment) == dt.date(2027, 1, 1)
    assert prune_day(DAY) == DAY and prune_day(None) is None


def test_the_earlier_format_is_read_as_what_it_meant() -> None:
    old = {"actions": {"x": {"startedAt": "t", "doneAt": "t2"}, "y": {"startedAt": "t"}}}
    ledger = Ledger.from_properties(old)
    assert ledger.state_of("x") is ActionState.DONE
    assert ledger.state_of("y") is ActionState.STARTED
    assert "actions" not in ledger.properties()  # written back in the new format


def test_unreadable_entries_are_dropped() -> None:
    ledger = Ledger.from_properties({"done": ["zz", 3, "0123456789", "abcdef01~notaday"]})
    assert list(ledger.entries) == ["abcdef01"]


def test_a_hundred_actions_with_a_not_after_fit_in_two_kilobytes() -> None:
    ledger = Ledger()
    for number in range(100):
        ledger = ledger.with_state(
            f"2026-11-26-a-rather-long-action-id-{number:03}", ActionState.DONE, prune_after=DAY
        )
    assert len(ledger.entries) == 100
    assert ledger.checked().size <= MAX_LEDGER_BYTES


def test_more_than_fits_refuses() -> None:
    ledger = Ledger()
    for number in range(130):
        ledger = ledger.with_state(f"a{number}", ActionState.DONE, prune_after=DAY)
    with pytest.raises(LedgerFull, match="over Graph's 2048 for an open extension"):
        ledger.checked()
