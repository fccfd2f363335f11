"""docs/api-contract.md covers every request the product sends: each URL pattern that the
connectors and observe build appears in the table of its service's section.

A section is a ``## <service>`` heading with a table whose second column holds the request in
backticks. ``SECTIONS`` says, per section, which files send that service's requests and how to
find them in the code; the Exchange and CIPP sections add their own entry (their requests are
cmdlet and endpoint names, found by their own extractor)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "api-contract.md"
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_GRAPH_PATH = re.compile(r"^/[A-Za-z$]")


def _normalise(path: str) -> str:
    """``/users/{id | userPrincipalName}?$select=x`` -> ``/users/{}``."""
    return _PLACEHOLDER.sub("{}", path.split("?", 1)[0]).rstrip("/")


def graph_paths(source: str) -> set[str]:
    """Every Graph request path a module builds: string literals and f-strings that start
    with ``/`` and a name, each interpolation standing for one ``{}`` segment."""
    found: set[str] = set()
    tree = ast.parse(source)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        text: str | None = None
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            text = node.value
        if text and _GRAPH_PATH.match(text) and " " not in text:
            found.add(_normalise(text))
    return found


SECTIONS: dict[str, tuple[tuple[str, ...], Callable[[str], set[str]]]] = {
    "Microsoft Graph": (("controller/connectors/graph.py", "controller/observe"), graph_paths),
}


def _sources(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = ROOT / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def contract_rows(section: str) -> set[str]:
    """The requests (second column, first backticked text) of a section's table."""
    text = CONTRACT.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/api-contract.md has no section '## {section}'"
    rows: set[str] = set()
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        request = re.search(r"`([^`]+)`", cells[1].replace("\\|", "|"))
        if request:
            rows.add(_normalise(request.group(1)))
    return rows


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_request_in_the_code_has_its_row(section: str) -> None:
    files, extract = SECTIONS[section]
    in_code = {
        path: sorted({p for p in extract(f.read_text(encoding="utf-8"))} - contract_rows(section))
        for f in _sources(files)
        for path in [str(f.relative_to(ROOT))]
    }
    missing = {path: paths for path, paths in in_code.items() if paths}
    assert not missing, f"requests without a row in docs/api-contract.md ({section}): {missing}"


def test_the_extractor_finds_what_the_graph_client_sends() -> None:
    # A guard on the check itself: it must see these, or it proves nothing.
    found = graph_paths((ROOT / "controller/connectors/graph.py").read_text(encoding="utf-8"))
    assert {
        "/users",
        "/users/{}",
        "/groups/{}/members/$ref",
        "/groups/{}/members/{}/$ref",
        "/directory/deletedItems/{}/restore",
        "/reports/authenticationMethods/userRegistrationDetails",
    } <= found
    ledger = graph_paths((ROOT / "controller/observe/tenant.py").read_text(encoding="utf-8"))
    assert "/users/{}/extensions/{}" in ledger


def test_a_path_missing_from_the_table_is_reported() -> None:
    code = 'URL = f"/users/{uid}/memberOf"\n'
    assert graph_paths(code) - contract_rows("Microsoft Graph") == {"/users/{}/memberOf"}


def test_every_service_has_its_section() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    for heading in (
        "## Microsoft Graph",
        "## Exchange admin REST",
        "## CIPP",
        "## Partner Center",
        "## Entra login",
    ):
        assert f"\n{heading}\n" in text
