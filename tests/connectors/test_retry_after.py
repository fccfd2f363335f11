"""The one ``Retry-After`` parser (connectors and ``--notify``): delay-seconds, HTTP-dates
measured from the caller's clock or from the answer's own ``Date``, and every unusable value
as ``None`` so that each caller picks its own fallback."""

from __future__ import annotations

import datetime as dt

import pytest

from controller.connectors._headers import header, retry_after

NOW = dt.datetime(2026, 11, 26, 9, 30, 0, tzinfo=dt.UTC).timestamp()
SERVER_DATE = "Thu, 26 Nov 2026 09:30:00 GMT"
LATER = "Thu, 26 Nov 2026 09:30:05 GMT"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("120", 120.0),
        ("-2", 0.0),  # nonsense, read as "now"
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_delay_seconds(value: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": value}) == seconds


def test_no_header_is_none() -> None:
    assert retry_after({}) is None
    assert retry_after({"Date": SERVER_DATE}, now=NOW) is None


def test_the_name_is_case_insensitive() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"RETRY-AFTER": "3"}) == 3.0
    assert header({"X-Ms-Resource-Unit": "2"}, "x-ms-resource-unit") == "2"
    assert header({}, "request-id") is None


def test_an_http_date_is_measured_from_now() -> None:
    assert retry_after({"Retry-After": LATER}, now=NOW) == 5.0


def test_an_http_date_without_a_clock_is_measured_from_the_answers_date() -> None:
    # The service's own clock: a skewed local clock does not matter.
    assert retry_after({"Retry-After": LATER, "Date": SERVER_DATE}) == 5.0


def test_the_callers_clock_wins_over_the_answers_date() -> None:
    headers = {"Retry-After": LATER, "Date": "Thu, 26 Nov 2026 09:29:00 GMT"}
    assert retry_after(headers, now=NOW) == 5.0


def test_an_http_date_with_nothing_to_measure_from_is_none() -> None:
    assert retry_after({"Retry-After": LATER}) is None
    assert retry_after({"Retry-After": LATER, "Date": "yesterday"}) is None


def test_a_date_already_past_waits_nothing() -> None:
    assert retry_after({"Retry-After": "Thu, 26 Nov 2026 09:00:00 GMT"}, now=NOW) == 0.0


def test_a_date_without_a_zone_is_utc() -> None:
    # RFC 5322's "-0000": UTC, local zone unknown; Python returns it without a tzinfo.
    assert retry_after({"Retry-After": "Thu, 26 Nov 2026 09:30:05 -0000"}, now=NOW) == 5.0


def test_a_date_in_another_zone() -> None:
    assert retry_after({"Retry-After": "Thu, 26 Nov 2026 10:30:05 +0100"}, now=NOW) == 5.0
