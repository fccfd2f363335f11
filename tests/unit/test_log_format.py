"""``--log-format json``: one JSON object per log line with the run's fields, accepted before
or after any command; the redacting filter runs before the JSON formatter, so a planted
secret never reaches a line (message, extras or exception)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import _configure_logging, cli
from controller.cli.log_json import JsonLogFormatter
from controller.cli.terminal import Terminal
from controller.redaction import remember

DESIRED = Path(__file__).resolve().parents[2] / "desired"
SECRET = "planted-secret-4f1d9c2e"
WEBHOOK = "https://relay.example/hooks/Tz9secretpath?sig=abcdef123456"


@pytest.fixture
def json_logging() -> Iterator[io.StringIO]:
    """The command line's logging at -v with --log-format json, writing to a buffer."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()

    class Captured(Terminal):
        def log(self, text: str) -> None:
            buffer.write(text + "\n")

    _configure_logging(Captured(verbosity=1, log_format="json"))
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.getLogger("msal").setLevel(logging.NOTSET)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_one_object_per_line_with_the_runs_fields(json_logging: io.StringIO) -> None:
    log = logging.getLogger("tenantctl.controller")
    log.info(
        "group.addMember %s: %s",
        "group:sales",
        "succeeded",
        extra={
            "run_id": 12,
            "tenant": "contoso",
            "operation": "contoso/group.addMember/sales/bob",
            "outcome": "succeeded",
            "duration_ms": 41,
        },
    )
    log.warning("plain")
    first, second = lines(json_logging)
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "logger": "tenantctl.controller",
        "message": "group.addMember group:sales: succeeded",
        "runId": 12,
        "tenant": "contoso",
        "operation": "contoso/group.addMember/sales/bob",
        "outcome": "succeeded",
        "durationMs": 41,
    }
    assert list(first)[:8] == [
        "time", "level", "logger", "message", "runId", "tenant", "operation", "outcome"
    ]  # fmt: skip
    assert str(first["time"]).endswith("Z") and "T" in str(first["time"])
    assert second["message"] == "plain" and "tenant" not in second


def test_a_planted_secret_is_redacted_before_the_json_formatter(
    json_logging: io.StringIO,
) -> None:
    remember(SECRET)
    log = logging.getLogger("tenantctl.test")
    log.info("the service echoed %s", SECRET, extra={"tenant": "contoso", "url": WEBHOOK})
    log.info("header Authorization: Bearer abc.def.ghi", extra={"detail": f"x {SECRET} y"})
    try:
        raise RuntimeError(f"cannot post to {WEBHOOK} with {SECRET}")
    except RuntimeError:
        log.exception("boom", extra={"run_id": 3})
    output = json_logging.getvalue()
    for secret in (SECRET, "Tz9secretpath", "abcdef123456", "abc.def.ghi"):
        assert secret not in output
    echoed, header, failed = lines(json_logging)
    assert echoed["message"] == "the service echoed ***"
    # (How much of the URL is *** depends on what this process remembered before.)
    assert re.fullmatch(r"https://relay\.example[*/]+", str(echoed["url"]))
    assert header["detail"] == "x *** y"
    assert re.search(
        r"RuntimeError: cannot post to https://relay\.example[*/]+ with \*\*\*",
        str(failed["exception"]),
    )


def test_values_that_are_not_plain_are_left_out() -> None:
    record = logging.makeLogRecord(
        {"msg": "x", "payload": {"password": "p4ssw0rd-value"}, "count": 2, "tenant": None}
    )
    line = json.loads(JsonLogFormatter().format(record))
    assert "payload" not in line and "tenant" not in line
    assert line["count"] == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--log-format", "json", "validate", "--desired", str(DESIRED), "-v"],
        ["validate", "--desired", str(DESIRED), "--log-format", "json", "-v"],
    ],
)
def test_log_format_before_or_after_the_command(args: list[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        [handler] = root.handlers
        assert isinstance(handler.formatter, JsonLogFormatter)
        CliRunner().invoke(cli, ["validate", "--desired", str(DESIRED)])
        [handler] = root.handlers
        assert not isinstance(handler.formatter, JsonLogFormatter)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_with_json_logs_every_line_of_stderr_is_an_object_the_final_error_too(
    tmp_path: Path,
) -> None:
    """A log collector reads stderr line by line: the notes and the final error are objects
    of the same shape as the log lines, the error at level ERROR, without its "error: "."""
    missing = tmp_path / "no" / "journal.sqlite"
    result = CliRunner().invoke(
        cli, ["history", "--journal", str(missing), "--run", "1", "--log-format", "json"]
    )
    assert result.exit_code == 64
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["level"], line["logger"]) for line in lines] == [("ERROR", "tenantctl")]
    assert lines[0]["message"] == f"no journal at {missing}; point --journal at apply's journal"
    assert lines[0]["time"].endswith("Z")
    text = CliRunner().invoke(cli, ["history", "--journal", str(missing), "--run", "1"])
    assert text.stderr.startswith("error: no journal at ")
