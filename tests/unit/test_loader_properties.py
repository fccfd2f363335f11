"""Property tests: whatever a file holds, the loader answers with located diagnostics and
never raises.

Inputs: arbitrary text, text assembled from YAML's own punctuation (anchors, aliases, tags,
flow and block collections, document markers, tabs), arbitrary data dumped as YAML (huge
numbers, non-string keys, deep nesting), and random mutations of the demo tenant files.
Every diagnostic must name the file it is about, with a line and column inside that file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.errors import Diagnostic
from controller.loader import validate_desired
from controller.loader.source import parse_yaml
from tests.unit.desired_files import MSP

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "desired"
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The line breaks libyaml counts (YAML 1.1: also NEL and the Unicode separators).
_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


def assert_located(problems: list[Diagnostic], text: str, file: str) -> None:
    lines = _BREAK.split(text)
    widest = max(len(line) for line in lines)
    for problem in problems:
        assert problem.file == file, problem
        assert 1 <= problem.line <= len(lines), (problem, len(lines))
        assert 1 <= problem.column <= widest + 1, problem
        assert problem.message, problem


# --- strategies -------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "apiVersion", "kind", "metadata", "spec", "users", "name", "Tenant", "MSP",
        "tenantctl/v1", "userPrincipalName", "alice@contoso.com", "members", "<<",
        ":", ": ", "- ", "-", "\n", "\n  ", "\n    ", "\t", " ", ",", "?", "? ",
        "[", "]", "{", "}", "&a ", "*a", "&b ", "*b", "!x ", "!!str ", "!!int ", "!!map ",
        "!!binary ", "!", "'", '"', "|", ">", "#", "---", "...", "%YAML 1.2\n", "~", "null",
        "true", "NO", "0x1F", "1e999", "9" * 30, ".nan", "\\", "\x00", "\ufeff", "é", "\u2028",
    ]
)  # fmt: skip
YAMLISH = st.lists(FRAGMENTS, max_size=40).map("".join)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["tenantctl/v1", "Tenant", "MSP", "NO", "alice@contoso.com", ""])
)
KEYS = (
    st.text(max_size=12)
    | st.sampled_from(["apiVersion", "kind", "metadata", "spec", "users", "name", "tenantId"])
    | st.integers()
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False)
)
DATA = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --- parse_yaml on its own ------------------------------------------------------------------


@SETTINGS
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    source = parse_yaml(text, "t.yaml")
    assert_located(source.diagnostics, text, "t.yaml")


@SETTINGS
@given(YAMLISH)
def test_yaml_punctuation_never_raises(text: str) -> None:
    source = parse_yaml(text, "t.yaml")
    assert_located(source.diagnostics, text, "t.yaml")
    if source.data is not None:  # whatever was built can be located
        source.locate(["spec", "users", 0, "name"])
        source.path_text(["spec", "users", 0, "name"])


@SETTINGS
@given(DATA)
def test_dumped_data_reads_back(data: Any) -> None:
    text = dump(data)
    source = parse_yaml(text, "t.yaml")
    assert_located(source.diagnostics, text, "t.yaml")


# --- the whole loader -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    desired = tmp_path_factory.mktemp("estate") / "desired"
    (desired / "tenants").mkdir(parents=True)
    (desired / "msp.yaml").write_text(MSP)
    return desired


def validate_one(estate: Path, text: str, name: str = "tenants/probe.yaml") -> None:
    path = estate / name
    path.write_text(text, encoding="utf-8")
    try:
        _, problems = validate_desired(estate)
        shown = str(path)
        mine = [p for p in problems if Path(p.file).resolve() == path.resolve()]
        assert_located(mine, text, mine[0].file if mine else shown)
        assert all(Path(p.file).resolve() in {path.resolve()} for p in problems), problems
    finally:
        path.unlink()


NO_SURROGATES = st.text(alphabet=st.characters(exclude_categories=["Cs"]))


@SETTINGS
@given(NO_SURROGATES | YAMLISH.filter(lambda t: "\ud800" not in t))
def test_arbitrary_tenant_file_never_raises(estate: Path, text: str) -> None:
    validate_one(estate, text)


@SETTINGS
@given(DATA)
def test_arbitrary_data_as_a_tenant_file_never_raises(estate: Path, data: Any) -> None:
    validate_one(estate, dump(data))


@SETTINGS
@given(DATA)
def test_arbitrary_data_as_msp_yaml_never_raises(estate: Path, data: Any) -> None:
    original = (estate / "msp.yaml").read_text()
    try:
        text = dump(data)
        (estate / "msp.yaml").write_text(text, encoding="utf-8")
        _, problems = validate_desired(estate)
        assert_located(problems, text, problems[0].file if problems else "")
    finally:
        (estate / "msp.yaml").write_text(original)


# --- mutations of the demo tenants ---------------------------------------------------------------

DEMO_TENANTS = {p.name: parse_yaml(p.read_text(), p.name).data for p in DEMO.glob("tenants/*.yaml")}


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value if how == "replace" else data
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if not rest and how == "delete":
            del copy[head]
        elif not rest and how == "insert":
            copy[f"{head}x"] = value
        else:
            copy[head] = mutate(data[head], rest, how, value)
        return copy
    copy_list = list(data)
    if not rest and how == "delete":
        del copy_list[head]
    elif not rest and how == "insert":
        copy_list.insert(head, value)
    else:
        copy_list[head] = mutate(data[head], rest, how, value)
    return copy_list


@st.composite
def demo_mutations(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(DEMO_TENANTS)))
    data = DEMO_TENANTS[name]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths(data)))
        how = draw(st.sampled_from(["replace", "delete", "insert"]))
        data = mutate(data, path, how, draw(DATA))
    return dump(data)


@SETTINGS
@given(demo_mutations())
def test_mutated_demo_tenants_never_raise(estate: Path, text: str) -> None:
    validate_one(estate, text)
