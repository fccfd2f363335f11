"""Small desired-state estates written into a temporary directory, for the loader's tests.

``validate(tmp_path, monkeypatch, tenants={...})`` writes ``desired/msp.yaml`` and one file per
tenant, validates from inside ``tmp_path`` (so paths read ``desired/tenants/x.yaml``) and
returns every diagnostic as ``file:line:col: path: message``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controller.errors import Diagnostic
from controller.loader import validate_desired
from controller.models import DesiredState

# Line numbers in the tests count from the first line of these texts.
MSP = """\
apiVersion: tenantctl/v1
kind: MSP
metadata:
  name: test-msp
spec:
  partner:
    tenantId: 0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21
    clientId: 3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f
    credential:
      secret: {env: TENANTCTL_CLIENT_SECRET}
  cipp:
    baseUrl: https://cipp.example.com
    tenantId: 0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21
    clientId: 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d
    secret: {env: CIPP_CLIENT_SECRET}
  defaults:
    usageLocation: US
"""

MSP_WITHOUT_DEFAULTS_OR_CIPP = """\
apiVersion: tenantctl/v1
kind: MSP
metadata:
  name: test-msp
spec:
  partner:
    tenantId: 0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21
    clientId: 3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f
    credential:
      secret: {env: TENANTCTL_CLIENT_SECRET}
"""

TENANT = """\
apiVersion: tenantctl/v1
kind: Tenant
metadata:
  name: contoso
  tenantId: 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f
  domains: [contoso.com]
spec:
  exchange: direct
  users:
    - userPrincipalName: alice@contoso.com
      displayName: Alice
"""


def tenant(
    name: str = "contoso",
    tenant_id: str = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
    domains: str = "[contoso.com]",
    spec: str = "",
) -> str:
    """A tenant file: metadata on lines 3-6, ``spec:`` on line 7, then ``spec`` (dedented,
    indented by two) from line 8 on."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    return (
        "apiVersion: tenantctl/v1\n"
        "kind: Tenant\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  tenantId: {tenant_id}\n"
        f"  domains: {domains}\n"
        "spec:\n" + (body + "\n" if body else "  exchange: direct\n")
    )


def write_estate(root: Path, tenants: dict[str, str], msp: str | None = MSP) -> Path:
    desired = root / "desired"
    (desired / "tenants").mkdir(parents=True, exist_ok=True)
    if msp is not None:
        (desired / "msp.yaml").write_text(msp, encoding="utf-8")
    for name, text in tenants.items():
        (desired / "tenants" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return desired


def load(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tenants: dict[str, str] | None = None,
    msp: str | None = MSP,
) -> tuple[DesiredState | None, list[Diagnostic]]:
    write_estate(root, tenants if tenants is not None else {"contoso": TENANT}, msp)
    monkeypatch.chdir(root)
    return validate_desired(Path("desired"))


def validate(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tenants: dict[str, str] | None = None,
    msp: str | None = MSP,
) -> list[str]:
    state, problems = load(root, monkeypatch, tenants, msp)
    assert (state is None) == any(p.severity == "error" for p in problems)
    return [str(p) for p in problems]
