"""Open extensions on users as Graph documents them (microsoftgraph/microsoft-graph-docs-contrib,
concepts/extensibility-overview.md and api-reference/v1.0/api/opentypeextension-update.md):
two per app per user, at most 2 KB of properties each, properties of primitive types or
arrays of them, and an update that replaces every property."""

from __future__ import annotations

from controller.sandbox import Sandbox
from tests.sandbox.conftest import CONTOSO, client

BOB = "/v1.0/users/bob@contoso.com/extensions"


def _extension(name: str, **properties: object) -> dict[str, object]:
    return {"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": name, **properties}


def test_two_extensions_per_app_per_user(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        assert g.post(BOB, json=_extension("com.a")).status_code == 201
        assert g.post(BOB, json=_extension("com.b")).status_code == 201
        third = g.post(BOB, json=_extension("com.c"))
        assert third.status_code == 400
        assert "supported per application is 2" in third.json()["error"]["message"]
        assert g.delete(f"{BOB}/com.a").status_code == 204
        assert g.post(BOB, json=_extension("com.c")).status_code == 201


def test_at_most_two_kilobytes_of_properties(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        fits = g.post(BOB, json=_extension("com.a", data="x" * 2030))
        assert fits.status_code == 201
        too_big = g.patch(f"{BOB}/com.a", json=_extension("com.a", data="x" * 2100))
        assert too_big.status_code == 400
        assert "at most 2048 bytes" in too_big.json()["error"]["message"]
        assert g.post(BOB, json=_extension("com.b", data="x" * 3000)).status_code == 400


def test_only_primitive_values_or_arrays_of_them(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        nested = g.post(BOB, json=_extension("com.a", actions={"a1": {"doneAt": "t"}}))
        assert nested.status_code == 400
        assert g.post(BOB, json=_extension("com.a", done=["a", "b"], v=1)).status_code == 201


def test_an_update_replaces_every_property(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        g.post(BOB, json=_extension("com.a", keep=1, drop=2))
        assert g.patch(f"{BOB}/com.a", json=_extension("com.a", keep=3)).status_code == 204
        got = g.get(f"{BOB}/com.a").json()
    assert got["keep"] == 3 and "drop" not in got and got["id"] == "com.a"
