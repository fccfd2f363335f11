"""Running ``tenantctl apply`` as its own process against a sandbox served by the test, as an
SRE would (kill it, signal it, start two at once): the estate's files, the environment, the
command line, and a local webhook receiver."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from controller.cli.sandbox import msp_document
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED


def estate(
    tmp_path: Path,
    sb: Sandbox,
    tenants: dict[str, str | None],
    *,
    policy: dict[str, Any] | None = None,
) -> Path:
    """A desired/ whose msp.yaml points at ``sb``: each tenant's file copied from the demo
    estate (value None) or written from the YAML text given, with the demo's profiles. Secrets
    go to tmp_path/secrets."""
    desired = tmp_path / "desired"
    (desired / "tenants").mkdir(parents=True, exist_ok=True)
    shutil.copytree(DESIRED / "profiles", desired / "profiles", dirs_exist_ok=True)
    document = msp_document(sb)
    document["spec"]["policy"] = policy or {"default": "allow"}
    document["spec"]["defaults"] = {"usageLocation": "US"}
    document["spec"]["secretSink"] = {"directory": str(tmp_path / "secrets")}
    (desired / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    for name, text in tenants.items():
        if text is None:
            shutil.copy(DESIRED / "tenants" / f"{name}.yaml", desired / "tenants")
        else:
            (desired / "tenants" / f"{name}.yaml").write_text(text)
    return desired


def environment(tmp_path: Path, sb: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "TENANTCTL_CLIENT_SECRET": sb.secrets["partner"],
        "CIPP_CLIENT_SECRET": sb.secrets["cipp"],
    }


def apply_command(tmp_path: Path, desired: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from controller.cli import main; main()",
        "apply",
        "--desired",
        str(desired),
        "--journal",
        str(tmp_path / "journal.sqlite"),
        "--approvals",
        str(tmp_path / "approvals"),
        "--no-interactive",
        *extra,
    ]


def password_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "secrets").rglob("*.txt"))


class _Receiver(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(json.loads(self.rfile.read(length) or b"null"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebhookReceiver(ThreadingHTTPServer):
    """A Teams webhook on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.received: list[Any] = []

    @property
    def url(self) -> str:
        return f"teams+http://127.0.0.1:{self.server_address[1]}/webhook"


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()
