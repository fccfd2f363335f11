"""The Key Vault secret sink leaks nothing, at any verbosity: ``plan`` and ``apply --sandbox
-vv`` (text logs, then ``--log-format json``) create a user and reset a password with msp.yaml's
``secretSink.keyVault``, azure-core's HTTP logging and azure-identity's token requests logging
at INFO and DEBUG; the passwords read back from the sandbox's vault, the partner app's client
secret and any access token (the vault's included) appear in no output, plan, result or
journal. And the redaction covers what azure-core logs when an SDK client's network trace is
on (``logging_enable``): the Authorization header, the client secret in the token request's
body and the ``value`` of the PUT that stores a password."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

from controller.apply.secret_sink import generate_password
from controller.sandbox import Sandbox, default_scenario
from tests.integration.test_key_vault_sink import CAROL
from tests.sandbox.conftest import APP, PARTNER
from tests.security.leak_search import contoso_estate, leaks, tenantctl, written_files

PARTNER_SECRET = "partner-4c1e7b2a-PLANTED-vault-trace"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_apply_with_the_key_vault_sink_leaks_no_password_token_or_secret(
    tmp_path: Path, log_format: str
) -> None:
    estate = contoso_estate(tmp_path)
    common = estate.options
    logs = ["--log-format", log_format]
    outputs: dict[str, bytes] = {}
    for args, expected in (
        (["plan", *common, *logs, "--out", "plan.json"], 2),
        (["apply", *common, *logs, "--journal", "journal.sqlite", "--out", "result.json",
          "--no-interactive"], 0),
    ):  # fmt: skip
        done = tenantctl(args, cwd=tmp_path, env=estate.env)
        output = done.stdout + done.stderr
        assert done.returncode == expected, output.decode(errors="replace")[-3000:]
        assert b"Traceback" not in output
        outputs[f"{args[0]} stdout"], outputs[f"{args[0]} stderr"] = done.stdout, done.stderr

    passwords = estate.passwords()
    assert len(passwords) == 2 and all(len(p) >= 12 for p in passwords)
    logged = outputs["apply stderr"]
    # The run reached every logger that could show them: the SDK's request and response
    # headers, its challenge, and azure-identity's token request for the vault.
    assert b"azure.core.pipeline.policies.http_logging_policy" in logged
    assert b"azure.identity" in logged and b"https://vault.azure.net" in logged
    assert b"PUT /secrets/" + CAROL.encode() in logged
    if log_format == "json":
        assert all(json.loads(line) for line in logged.splitlines() if line.startswith(b"{"))

    haystacks = {**outputs, **written_files(tmp_path, outside=[estate.sandbox_state])}
    assert {"plan.json", "result.json", "journal.sqlite"} <= {Path(p).name for p in haystacks}
    assert leaks(haystacks, [*passwords, estate.partner_secret]) == []


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """The demo world, its partner app's secret one no other test has made known."""
    with Sandbox(default_scenario()) as running:
        running.rt.world.partner.app.secret = PARTNER_SECRET
        yield running


@pytest.mark.parametrize("root_logging", ["text", "json"], indirect=True)
def test_azure_network_traces_are_redacted(root_logging: io.StringIO, sb: Sandbox) -> None:
    """azure-core's network trace (``logging_enable=True``) logs headers unredacted and the
    request bodies: the redacting filter hides the bearer token, the client secret of the
    token request and the password stored."""
    password = generate_password()
    credential = ClientSecretCredential(
        PARTNER,
        APP,
        PARTNER_SECRET,
        authority=sb.endpoints["login"],
        disable_instance_discovery=True,
        connection_verify=str(sb.ca_path),
        logging_enable=True,
    )
    with SecretClient(
        sb.endpoints["keyVault"],
        credential,
        verify_challenge_resource=False,
        connection_verify=str(sb.ca_path),
        logging_enable=True,
    ) as client:
        client.set_secret("tenantctl-contoso-carol", password)
        token = credential.get_token("https://vault.azure.net/.default").token
    logged = root_logging.getvalue()
    assert "Authorization" in logged and "client_secret" in logged  # traced, then redacted
    assert leaks({"log": logged.encode()}, [password, PARTNER_SECRET, token]) == []
