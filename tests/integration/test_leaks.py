"""Nothing leaks at any verbosity: every command runs at ``-vv`` as its own process against a
sandbox reached the way real tenants are (msp.yaml endpoints, secrets from the environment and
a file, tokens from the login endpoint), with known secrets planted everywhere an attacker or
a careless operator would find them:

- the partner secret in the environment, the CIPP secret in a file (with its newline);
- a webhook URL with a user name and password, a secret path and a ``sig=`` query, posted to
  by ``plan``, ``apply`` and ``controller --once --log-format json`` (``--notify``) and answering 500 with the request echoed back,
  its ``Authorization: Basic`` header included;
- a Graph read answering 400 with a message that echoes the request's headers, the bearer
  token included (as a misbehaving proxy does).

Then everything the commands printed (stdout and stderr) and every file they wrote (plans,
results, Markdown, the journal, approval records, schemas, tenant files, the secret sink) is
searched for the secrets, for any JSON Web Token and for the Basic credential.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.cli.sandbox import msp_document
from controller.sandbox import Sandbox, default_scenario
from tests.integration.conftest import DESIRED
from tests.security.leak_search import leaks, tenantctl

PARTNER_SECRET = "partner-7f3c9e1a-PLANTED-env-secret"
CIPP_SECRET = "cipp-0d4b8a62-PLANTED-file-secret"
HOOK_USER = "hookuser"
HOOK_PASSWORD = "hookpw-5e2a91-PLANTED"
HOOK_PATH = "/webhookb2/PLANTED-path-3c8e7f/IncomingWebhook"
HOOK_SIG = "PLANTEDsig9b1d4c2e7a"
BASIC = base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
PLANTED = (PARTNER_SECRET, CIPP_SECRET, HOOK_PASSWORD, HOOK_PATH, "PLANTED-path", HOOK_SIG, BASIC)
CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def echoing_receiver() -> Iterator[tuple[int, list[str]]]:
    """A webhook receiver that answers 500 and echoes the request, headers and all."""
    seen: list[str] = []

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            echoed = f"{self.command} {self.path}\n{self.headers}"
            seen.append(echoed)
            body = f"<html><pre>upstream failed for request:\n{echoed}</pre></html>".encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def planted_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(default_scenario(), state_dir=tmp_path / "sandbox-state") as sandbox:
        partner = sandbox.rt.world.partner
        partner.app.secret = PARTNER_SECRET
        assert partner.cipp is not None
        partner.cipp.secret = CIPP_SECRET
        # A read (observe logs it) and a write (apply reports its message, the journal and
        # the result files keep it) that echo the request with its bearer token.
        for method, path in (("GET", r"/users"), ("PATCH", r"/groups/")):
            sandbox.faults.add(
                method, path, status=400, count=None, tenant=CONTOSO, service="graph",
                message="Bad request.", echo_request=True,
            )  # fmt: skip
        yield sandbox


def _estate(tmp_path: Path, sandbox: Sandbox) -> tuple[Path, Path]:
    desired = tmp_path / "work" / "desired"
    shutil.copytree(DESIRED, desired)
    document = msp_document(sandbox)
    demo = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    document["metadata"] = demo["metadata"]
    document["spec"]["policy"] = demo["spec"]["policy"]
    document["spec"]["defaults"] = demo["spec"]["defaults"]
    secret_file = tmp_path / "secrets" / "cipp"
    secret_file.parent.mkdir()
    secret_file.write_text(CIPP_SECRET + "\n")
    document["spec"]["cipp"]["secret"] = {"file": str(secret_file)}
    (desired / "msp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return desired, secret_file


def test_no_command_leaks_a_secret_at_debug_verbosity(
    tmp_path: Path, planted_sandbox: Sandbox, echoing_receiver: tuple[int, list[str]]
) -> None:
    port, echoed = echoing_receiver
    desired, secret_file = _estate(tmp_path, planted_sandbox)
    work = desired.parent
    home = tmp_path / "home"
    home.mkdir()
    hook = f"http://{HOOK_USER}:{HOOK_PASSWORD}@127.0.0.1:{port}{HOOK_PATH}?sv=1&sig={HOOK_SIG}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TENANTCTL_", "CIPP_", "REQUESTS_", "CURL_", "SSL_"))
    }
    env.update({"TENANTCTL_CLIENT_SECRET": PARTNER_SECRET, "HOME": str(home), "CI": "true"})
    d = ["--desired", str(desired)]
    commands: list[tuple[list[str], set[int]]] = [
        (["validate", *d], {0}),
        (["schema", "--out", "schemas"], {0}),
        (["connect", "check", *d], {0, 1}),
        (["plan", *d, "--out", "plan.json", "--markdown", "plan.md", "--notify", hook], {1, 2}),
        (["approve", "plan.json", "--by", "Dana Reviewer"], {0}),
        (["apply", *d, "--out", "result.json", "--markdown", "result.md", "--notify", hook,
          "--no-interactive"], {0, 1, 2}),
        (["controller", *d, "--once", "--notify", hook, "--log-format", "json"], {0, 1, 2}),
        (["history"], {0}),
        (["history", "--run", "1", "--format", "json"], {0}),
        (["status", *d], {0, 1, 2}),
        (["status", *d, "--format", "json"], {0, 1, 2}),
        (["discover", *d, "--write"], {0, 1}),
        (["import", *d, "--tenant", "fabrikam", "--force"], {0, 1, 2}),
        (["sandbox", "reset", "--state", str(tmp_path / "another-sandbox")], {0}),
    ]  # fmt: skip
    transcript: list[bytes] = []
    for args, expected in commands:
        done = tenantctl(args, cwd=work, env=env)
        output = done.stdout + done.stderr
        assert done.returncode in expected, (args, output.decode(errors="replace")[-3000:])
        assert b"Traceback" not in output and b"internal error" not in output, args
        # The command line holds the webhook URL: only what tenantctl printed goes in.
        transcript.append(b"$ tenantctl -vv " + args[0].encode() + b" ...\n" + output)

    everything = b"\n".join(transcript)
    # The run did reach every place a secret could leak from, at debug verbosity.
    assert b"DEBUG" in everything and b"httpx" in everything and b"msal" in everything
    assert len(echoed) >= 2 and f"Basic {BASIC}" in echoed[0], "the receiver saw the secrets"
    assert b"not sent: HTTP 500" in everything
    assert b"Bad request. Request: PATCH /v1.0/groups/" in everything
    assert b"authorization: Bearer ***" in everything

    written = [
        path
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
        and path != secret_file
        and not path.is_relative_to(tmp_path / "sandbox-state")  # the emulator's own world
    ]
    assert {"plan.json", "plan.md", "result.json", "result.md", "journal.sqlite"} <= {
        p.name for p in written
    }
    assert any(p.parent.name == "approvals" for p in written)
    files = {str(p): p.read_bytes() for p in written}
    assert leaks({"output": everything, **files}, PLANTED) == []
