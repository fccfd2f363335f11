"""docs/api-contract.md covers every Exchange, CIPP and Partner Center request the connectors
send, and the sandbox implements every row:

- every cmdlet name a connector module holds (``"Get-Mailbox"``, ...) has its row in the
  Exchange section, and the sandbox runs it;
- every CIPP endpoint ``CippClient`` sends (the endpoint argument of each request, read from
  the code) has its row in the CIPP section, and the sandbox serves it;
- every Partner Center path ``PartnerCenterClient`` sends has its row;
- every row names its source (a cmdlet page, a CIPP-API file, a Learn page);
- every Key Vault request the secret sink sends (the SDK methods it calls) has its row, the
  sandbox's vault serves every row, and each names the REST page and the SDK's operation.

(The Graph rows and their test come with the Graph fidelity work.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, cast

import pytest

from controller.sandbox._cipp import CippService
from controller.sandbox._exchange import ExchangeService

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = ROOT / "controller" / "connectors"
CONTRACT = ROOT / "docs" / "api-contract.md"
CMDLET = re.compile(r"""["']((?:Get|New|Set|Add|Remove|Update|Enable|Disable)-[A-Za-z]+)["']""")
# CippClient's methods that send a request, and which positional argument is the endpoint.
CIPP_SENDERS = {"_list": 0, "_rows": 0, "_change": 0, "_create": 0, "request": 2}


def section(title: str) -> str:
    """The text of ``## title`` in the contract, up to the next ``## ``."""
    text = CONTRACT.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def table_names(title: str) -> set[str]:
    """The backticked first cell of each table row of a section."""
    return set(re.findall(r"^\| `([^`]+)` \|", section(title), re.M))


def cmdlets_sent() -> set[str]:
    return {
        name
        for module in sorted(CONNECTORS.glob("*.py"))
        for name in CMDLET.findall(module.read_text(encoding="utf-8"))
    }


def cipp_endpoints_sent() -> set[str]:
    tree = ast.parse((CONNECTORS / "cipp.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        position = CIPP_SENDERS.get(node.func.attr)
        if position is None or len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def test_the_code_is_read_as_sending_what_it_sends() -> None:
    """The readers above find what they should (so the checks below cannot pass empty)."""
    assert {"Get-Mailbox", "Add-DistributionGroupMember", "Get-Recipient"} <= cmdlets_sent()
    assert {"me", "ListGroups", "EditGroup", "ExecAddMultiTenantApp"} <= cipp_endpoints_sent()


def test_every_cmdlet_sent_has_its_row() -> None:
    missing = cmdlets_sent() - table_names("Exchange admin REST")
    assert not missing, f"cmdlets sent without a row in {CONTRACT.name}: {sorted(missing)}"


def test_every_cipp_endpoint_sent_has_its_row() -> None:
    missing = cipp_endpoints_sent() - table_names("CIPP")
    assert not missing, f"CIPP endpoints sent without a row in {CONTRACT.name}: {sorted(missing)}"


def test_every_partner_center_path_sent_has_its_row() -> None:
    code = (CONNECTORS / "partner_center.py").read_text(encoding="utf-8")
    paths = set(re.findall(r'"(/v1/[A-Za-z]+)"', code))
    assert paths == {"/v1/customers"}
    text = section("Partner Center")
    assert all(f"api.partnercenter.microsoft.com{p}`" in text for p in paths)


@pytest.mark.parametrize(
    ("title", "served"),
    [
        ("Exchange admin REST", set(ExchangeService(cast(Any, None)).cmdlets)),
        ("CIPP", set(CippService(cast(Any, None), cast(Any, None)).endpoints)),
    ],
)
def test_the_sandbox_implements_every_row(title: str, served: set[str]) -> None:
    rows = {name.lower() for name in table_names(title)}
    assert rows, title
    assert not rows - served, f"{title} rows the sandbox does not implement: {rows - served}"


def test_every_row_names_its_source() -> None:
    for title in ("Exchange admin REST", "CIPP", "Partner Center", "Entra login"):
        rows = re.findall(r"^\| `.*\|$", section(title), re.M)
        assert rows, title
        for row in rows:
            source = row.rstrip("|").rsplit("|", 1)[-1]
            assert re.search(r"\.md|\.ps1|Learn", source), (title, row[:80])


# -- Azure Key Vault --------------------------------------------------------------------------

# What each SecretClient method sends (azure-keyvault-secrets, _generated/_operations).
SDK_REQUESTS = {
    "set_secret": "PUT {vault}/secrets/{name}",
    "update_secret_properties": "PATCH {vault}/secrets/{name}/{version}",
    "get_secret": "GET {vault}/secrets/{name}/{version}",
    "list_properties_of_secret_versions": "GET {vault}/secrets/{name}/versions",
}


def key_vault_calls() -> set[str]:
    """The SecretClient methods the Key Vault sink calls (``self.client.<method>(...)``)."""
    tree = ast.parse((ROOT / "controller/apply/_key_vault.py").read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "client"
    }


def key_vault_rows() -> set[str]:
    """The request (method and path) that opens each row of the Key Vault table."""
    found = re.findall(r"^\| `([A-Z]+ [^`?]+)", section("Azure Key Vault"), re.M)
    return set(found)


def test_every_key_vault_request_the_sink_sends_has_its_row() -> None:
    calls = key_vault_calls()
    assert calls == {"set_secret", "update_secret_properties"}  # the reader sees the sink
    missing = {SDK_REQUESTS[c] for c in calls} - key_vault_rows()
    assert not missing, f"Key Vault requests without a row: {sorted(missing)}"
    assert key_vault_rows() == set(SDK_REQUESTS.values())


def test_the_sandbox_serves_every_key_vault_row() -> None:
    """Each row's method and path reaches an operation of the sandbox's vault, not its 404."""
    import json

    from controller.sandbox import Sandbox, default_scenario
    from controller.sandbox._http import Request
    from controller.sandbox._tokens import issue

    with Sandbox(default_scenario()) as sb:
        partner = sb.world.partner
        now = sb.clock.now()
        token = issue(
            sb.world.token_key,
            {"aud": "https://vault.azure.net", "tid": partner.tenant_id,
             "appid": partner.app.client_id, "exp": now + 600},
        )  # fmt: skip
        version = ""
        for row in sorted(key_vault_rows(), key=lambda r: not r.startswith("PUT")):
            method, url = row.split(" ", 1)
            path = url.replace("{vault}", "").format(name="row", version=version or "x")
            body = json.dumps({"value": "value-1234"}).encode() if method == "PUT" else b"{}"
            request = Request(
                "keyVault", method, path, {"api-version": "7.5"}, "api-version=7.5",
                {"authorization": f"Bearer {token}"}, body, sb.endpoints["keyVault"],
            )  # fmt: skip
            answer = sb.key_vault.handle(request)
            assert answer.status == 200, (row, answer.body)
            if method == "PUT":
                version = str(answer.body["id"]).rsplit("/", 1)[1]


def test_every_key_vault_row_names_its_source() -> None:
    rows = re.findall(r"^\| `.*\|$", section("Azure Key Vault"), re.M)
    assert len(rows) == len(SDK_REQUESTS)
    for row in rows:
        source = row.rstrip("|").rsplit("|", 1)[-1]
        assert "Learn" in source and "_operations.py" in source, row[:80]
