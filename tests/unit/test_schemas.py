"""The JSON Schemas in ``schemas/`` are what the models generate (a stale copy fails here),
``tenantctl schema`` writes exactly those, and they describe the files as YAML spells them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from controller.cli import cli
from controller.schemas import rendered_schemas

REPO = Path(__file__).resolve().parents[2]


def test_committed_schemas_match_the_models() -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "schemas").glob("*.json")}
    stale = sorted(
        name
        for name in committed.keys() | rendered_schemas().keys()
        if committed.get(name) != rendered_schemas().get(name)
    )
    assert not stale, (
        f"schemas/ is stale ({', '.join(stale)}): run `tenantctl schema --out schemas` "
        "(or `make schemas`) and commit the result"
    )


def test_schema_command_writes_the_rendered_schemas(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path / 'out' / name}" for name in rendered_schemas()
    ]
    for name, text in rendered_schemas().items():
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == text


def test_schemas_use_yaml_spelling_and_forbid_unknown_fields() -> None:
    tenant = json.loads(rendered_schemas()["tenant.schema.json"])
    assert tenant["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert tenant["additionalProperties"] is False
    assert set(tenant["required"]) == {"apiVersion", "kind", "metadata"}
    user = tenant["$defs"]["User"]
    assert "userPrincipalName" in user["properties"]
    assert user["additionalProperties"] is False
    msp = json.loads(rendered_schemas()["msp.schema.json"])
    assert msp["properties"]["kind"] == {"const": "MSP", "title": "Kind", "type": "string"}


def test_demo_files_name_their_schema() -> None:
    for path in sorted((REPO / "desired").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        schema = {"msp.yaml": "msp.schema.json"}.get(
            path.name, f"{path.parent.name.removesuffix('s')}.schema.json"
        )
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve() == REPO / "schemas" / schema
