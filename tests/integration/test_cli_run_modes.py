"""The command line's run modes: notifications from plan, drift and apply reach a webhook
(a local receiver), and `tenantctl sandbox serve` runs as its own process that another
process connects to with the msp.yaml it writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from controller.cli import cli
from tests.integration.conftest import DESIRED


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"1")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook", received
    server.shutdown()
    server.server_close()


def _card_text(message: dict[str, Any]) -> str:
    card = message["attachments"][0]["content"]
    return json.dumps(card)


def test_plan_drift_and_apply_notify_a_teams_webhook(
    receiver: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = receiver
    runner = CliRunner()
    state = ["--desired", str(DESIRED), "--sandbox", "--sandbox-state", str(tmp_path / "sb")]
    planned = runner.invoke(cli, ["plan", *state, "--notify", url])
    assert planned.exit_code == 2, planned.output
    drift = runner.invoke(cli, ["plan", *state, "--drift", "--notify", url])
    assert drift.exit_code == 2
    applied = runner.invoke(
        cli,
        [
            "apply",
            *state,
            "--approvals",
            str(tmp_path / "none"),
            "--journal",
            str(tmp_path / "j.sqlite"),
            "--notify",
            url,
            "--no-interactive",
        ],
        env={"HOME": str(tmp_path / "home")},
    )
    assert applied.exit_code == 2, applied.output  # the unapproved operations are held
    assert len(received) == 3
    assert all(m["type"] == "message" for m in received)
    plan_card, drift_card, apply_card = (_card_text(m) for m in received)
    assert "plan" in plan_card.lower() and "contoso" in plan_card
    assert "drift" in drift_card.lower()
    assert "apply" in apply_card.lower()
    assert url not in planned.output + drift.output + applied.output


def test_sandbox_serve_is_a_process_other_commands_connect_to(tmp_path: Path) -> None:
    msp = tmp_path / "desired" / "msp.yaml"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from controller.cli import main; main()",
            "sandbox",
            "serve",
            "--state",
            str(tmp_path / "state"),
            "--write-msp",
            str(msp),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed: dict[str, str] = {}
        assert server.stdout is not None and server.stderr is not None
        while "msp" not in printed:
            line = server.stdout.readline()
            assert line, server.stderr.read()
            name, _, value = line.strip().partition(" ")
            printed[name] = value.strip()
        assert {"login", "graph", "exchange", "cipp", "partnerCenter", "ca"} <= set(printed)
        assert all(printed[s].startswith("https://127.0.0.1:") for s in ("login", "graph", "cipp"))
        assert Path(printed["ca"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        secrets = ""
        while "TENANTCTL_CLIENT_SECRET=" not in secrets:
            secrets = server.stderr.readline()
        env = dict(
            part.split("=", 1) for part in secrets.split("export", 1)[1].split() if "=" in part
        )
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "from controller.cli import main; main()",
                "connect",
                "check",
                "--desired",
                str(msp.parent),
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)  # waits, and closes both pipes
    assert server.returncode in (0, -signal.SIGTERM)
    assert (tmp_path / "state" / "state.json").exists()
