"""The controller's schedule as pure decisions: each tenant due on its own, at its interval
give or take the jitter; back-off doubles per failure in a row up to the cap and resets on
success; new and changed tenants are due at once; gone ones are forgotten; and the parsing of
--interval, --jitter and --listen."""

from __future__ import annotations

import pytest

from controller.errors import UsageError
from controller.loop import Schedule, Timing, Verdict, parse_duration, parse_jitter, parse_listen


def schedule(interval: float = 900, jitter: float = 0.0, cap: float = 3600) -> Schedule:
    return Schedule(Timing(interval, jitter, backoff_cap=cap), random=lambda: 1.0)


def test_new_tenants_are_due_at_once_and_then_every_interval() -> None:
    s = schedule()
    assert s.track({"a": "1", "b": "1"}, now=100) == ("a", "b")
    assert s.due(100) == ("a", "b")
    assert s.reconciled("a", 100, Verdict.OK) == 1000
    assert s.due(100) == ("b",)
    assert s.next_due() == 100
    s.reconciled("b", 130, Verdict.OK)
    assert s.due(999) == ()
    assert s.due(1000) == ("a",)


def test_a_failing_tenant_backs_off_alone_doubling_up_to_the_cap_then_resets() -> None:
    s = schedule()
    s.track({"a": "1", "b": "1"}, now=0)
    delays = []
    for _ in range(4):
        delays.append(s.reconciled("a", 0, Verdict.THROTTLED))
    assert delays == [1800, 3600, 3600, 3600]  # 2x, 4x (capped at 1 h)
    assert s.reconciled("b", 0, Verdict.OK) == 900  # the other keeps its interval
    assert s.tenants["a"].failures == 4
    assert s.reconciled("a", 0, Verdict.OK) == 900
    assert s.tenants["a"].failures == 0
    assert s.reconciled("a", 0, Verdict.FAILED) == 1800


def test_the_cap_is_never_below_the_interval() -> None:
    s = schedule(interval=7200, cap=3600)
    s.track({"a": "1"}, now=0)
    assert s.reconciled("a", 0, Verdict.FAILED) == 7200


def test_jitter_spreads_around_the_interval() -> None:
    for draw, expected in ((0.0, 810.0), (0.5, 900.0), (1.0, 990.0)):
        s = Schedule(Timing(900, 0.1), random=lambda d=draw: d)
        s.track({"a": "1"}, now=0)
        assert s.reconciled("a", 0, Verdict.OK) == pytest.approx(expected)


def test_a_changed_tenant_is_due_at_once_and_a_gone_one_is_forgotten() -> None:
    s = schedule()
    s.track({"a": "1", "b": "1"}, now=0)
    s.reconciled("a", 0, Verdict.OK)
    s.reconciled("b", 0, Verdict.OK)
    assert s.track({"a": "2", "b": "1"}, now=60) == ("a",)
    assert s.due(60) == ("a",)
    assert s.track({"b": "1"}, now=120) == ()
    assert set(s.tenants) == {"b"}


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("6h", 21600), ("1d", 86400), (" 2m ", 120)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "--interval") == seconds


@pytest.mark.parametrize("text", ["0s", "15", "8d", "1.5h", "15 minutes", "-1m", "9" * 40 + "s"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--interval"):
        parse_duration(text, "--interval")


def test_jitter() -> None:
    assert parse_jitter("10%") == pytest.approx(0.1)
    assert parse_jitter("0") == 0
    for bad in ("60%", "-1%", "ten", "nan%"):
        with pytest.raises(UsageError):
            parse_jitter(bad)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9090", ("127.0.0.1", 9090)),
        (":9090", ("0.0.0.0", 9090)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:8080", ("localhost", 8080)),
    ],
)
def test_listen_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_listen(text) == address


@pytest.mark.parametrize("text", ["9090", "host:", "127.0.0.1:99999", "example.com:80", ":x"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(UsageError, match="--listen"):
        parse_listen(text)
