"""The lines of a YAML file by location: plain block YAML is read line by line, anything else
through libyaml's events, and the two give the same answer. Generated documents (nested
mappings and lists of awkward strings, dumped in several styles, with comments and blank
lines put in) are compared location by location; what the line reader cannot read it must
leave to the parser, never answer wrongly."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.loader import lines as lines_module
from controller.loader.lines import _block_lines, _event_lines, line_index

ROOT = Path(__file__).resolve().parents[2]

# Keys and strings with YAML's indicators, quotes, colons, hashes, spaces, non-ASCII.
_TEXT = st.text(
    alphabet=st.sampled_from([*"abcXYZ019 -_:#'\"!&*?|>[]{},%@`.\\/éλ😀", "\t", "\n"]),
    max_size=12,
)
_SCALAR = st.one_of(
    _TEXT,
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.just([]),
    st.just({}),
)
_DATA = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_TEXT, inner, max_size=4),
    ),
    max_leaves=25,
)


def _dumped(data: Any, style: int) -> str:
    """``data`` as YAML in one of several block styles a person or a tool writes."""
    # PyYAML's own default writes the innermost lists and mappings on one line, in flow style.
    flow = None if style % 7 == 3 else False
    options: dict[str, Any] = {"sort_keys": False, "default_flow_style": flow}
    if style % 2:
        options["allow_unicode"] = True
    if style % 3 == 1:
        options["indent"] = 4
    if style % 5 == 2:
        options["width"] = 20  # long scalars folded over several lines
    return yaml.safe_dump({"root": data, "after": "end"}, **options)


def _hand_written(data: Any) -> str:
    """``data`` as a person writes it: two spaces a level, lists indented under their key,
    a list item's mapping starting on its dash's line."""
    out: list[str] = []

    def scalar(value: Any) -> str:
        text = yaml.safe_dump(value, width=10**6, allow_unicode=True, default_flow_style=True)
        return text.removesuffix("\n").removesuffix("\n...")

    def mapping(value: dict[Any, Any], indent: int) -> None:
        for key, item in value.items():
            head = " " * indent + scalar(key) + ":"
            if isinstance(item, dict | list) and item:
                out.append(head)
                (mapping if isinstance(item, dict) else sequence)(item, indent + 2)  # type: ignore[operator]
            else:
                out.append(f"{head} {scalar(item)}")

    def sequence(value: list[Any], indent: int) -> None:
        for item in value:
            if isinstance(item, dict | list) and item:
                start = len(out)
                (mapping if isinstance(item, dict) else sequence)(item, indent + 2)  # type: ignore[operator]
                out[start] = " " * indent + "- " + out[start][indent + 2 :]
            else:
                out.append(" " * indent + "- " + scalar(item))

    mapping({"root": data, "after": "end"}, 0)
    return "\n".join(out) + "\n"


def _with_comments(text: str, seed: int) -> str:
    """Comment lines, blank lines and trailing comments put in where YAML allows them."""
    pick = random.Random(seed)
    out = []
    for line in text.split("\n"):
        if pick.random() < 0.2:
            out.append(" " * pick.randint(0, 6) + "# a comment: - [x]")
        if pick.random() < 0.1:
            out.append("")
        plain_end = line.rstrip().endswith(":") or line.lstrip().startswith("- ")
        unquoted = "'" not in line and '"' not in line
        out.append(line + "  # note" if pick.random() < 0.2 and plain_end and unquoted else line)
    return "\n".join(out)


def _locations(index: dict[Any, int], seed: int) -> set[Any]:
    pick = random.Random(seed)
    chosen = {loc for loc in index if pick.random() < 0.3}
    return chosen | {("root", "no such key")}


def _valid(text: str) -> bool:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return True


def _same_answers(text: str, seed: int) -> None:
    everything = _event_lines(text, None)
    fast = _block_lines(text, None)
    if fast is not None:
        assert fast == everything
    for only in (_locations(everything, seed), set(list(everything)[seed % 7 :][:1])):
        # The collections that hold none of the locations are passed over by indentation.
        some = _block_lines(text, only)
        if some is not None:
            assert some == _event_lines(text, only)
        assert line_index(text, only) == _event_lines(text, only)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DATA, style=st.integers(0, 29), seed=st.integers(0, 10**6))
def test_the_line_reader_and_the_parser_agree_on_generated_yaml(
    data: Any, style: int, seed: int
) -> None:
    text = _dumped(data, style)
    _same_answers(text, seed)
    commented = _with_comments(text, seed)
    if _valid(commented):
        _same_answers(commented, seed)
    _same_answers(text.replace("\n", "\r\n"), seed)
    by_hand = _hand_written(data)
    if _valid(by_hand):
        _same_answers(by_hand, seed)


@pytest.mark.parametrize("path", sorted((ROOT / "desired").rglob("*.yaml")), ids=lambda p: p.name)
def test_the_line_reader_reads_the_demo_estate_as_the_parser_does(path: Path) -> None:
    """Hand-written files: block YAML with one-line flow lists and mappings in it."""
    text = path.read_text(encoding="utf-8")
    fast = _block_lines(text, None)
    assert fast is not None
    assert fast == _event_lines(text, None)


@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.yaml")), ids=str)
def test_other_yaml_of_the_repository_is_read_alike_or_left_to_the_parser(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _block_lines(text, None)
    assert fast is None or fast == _event_lines(text, None)


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2]\n",
        "a: {b: 1, c: [x, y], d: {}}  # a comment\n",
        "a:\n- [p, q]\n- {r: s}\n",
        "a: [ spaced , out ]\n",
        "a: [x@example.com, 'quoted']\n",
    ],
)
def test_one_line_flow_collections_are_read_alike_or_left_to_the_parser(text: str) -> None:
    fast = _block_lines(text, None)
    assert fast is None or fast == _event_lines(text, None)
    if "'" not in text:
        assert fast is not None


def test_a_generated_tenant_of_50_users_is_read_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The benchmark's tenants (``bench/plan_bench.py``): what the speed is for. Only the
    users' list holds a location asked for: of the other items only the first line is read,
    up to the 38th, and nothing past it."""
    read = Counter[str]()
    key_value = lines_module._key_value

    def counted(content: str) -> tuple[str, str] | None:
        read["lines"] += 1
        return key_value(content)

    monkeypatch.setattr(lines_module, "_key_value", counted)
    users = [
        {
            "userPrincipalName": f"user{i:05d}@t.example.com",
            "displayName": f"Person {i}",
            "usageLocation": "US",
            "accountEnabled": True,
            "licenses": ["SPE_E3"] if i % 2 else [],
        }
        for i in range(50)
    ]
    document = {
        "apiVersion": "tenantctl/v1",
        "kind": "Tenant",
        "metadata": {"name": "t1", "domains": ["t.example.com"]},
        "spec": {"consent": "granted", "users": users},
    }
    text = yaml.safe_dump(document, sort_keys=False)
    only = {("metadata", "name"), ("spec", "users", 37), ("spec", "users", 37, "displayName")}
    fast = _block_lines(text, only)
    assert fast is not None and fast == _event_lines(text, only)
    assert set(fast) == only
    assert (
        text.split("\n")[fast[("spec", "users", 37)] - 1]
        == "  - userPrincipalName: user00037@t.example.com"
    )
    assert read["lines"] < 50  # of the file's 290 keys


@pytest.mark.parametrize(
    "text",
    [
        "a: [1,\n  2]\n",  # a flow collection over two lines
        "a: {b: [1, 'x']}\n",  # quotes inside one
        "a: [1, ]\n",  # an empty entry
        "a: [b: 1]\n",  # a pair in a list
        "a: |\n  text\n",  # block scalars
        "a: >\n  text\n",
        "a: &x 1\nb: *x\n",  # an anchor and an alias
        "a: !!str 1\n",  # a tag
        "a: one\n  two\n",  # a plain scalar over two lines
        "a: 'one\n  two'\n",  # a quoted one
        "'a': 1\n",  # a quoted key
        "? a\n: 1\n",  # a complex key
        "a:\n\t- 1\n",  # a tab
        "\ufeffa: 1\n",  # a byte-order mark
        "---\na: 1\n",  # a document marker
        "a:\n-\n  b: 1\n",  # an item that starts on the line below its dash
        "a:\n- - 1\n",  # a list in a list
        "- 1\n",  # a document that is a list
        "a: 1\r b: 2\n",  # a lone carriage return: a line break to YAML
        "a: 1\u2028b: 2\n",  # a line separator: the same
        "a:\n  b: 1\n c: 2\n",  # indentation YAML refuses
    ],
)
def test_what_is_not_plain_block_yaml_is_left_to_the_parser(text: str) -> None:
    assert _block_lines(text, None) is None
    assert line_index(text) == _event_lines(text, None)


def test_a_crlf_file_has_the_lines_of_its_lf_twin() -> None:
    text = "a:\n  b: 1\n  c:\n  - x\n  - y: 2\n    z: 3\n"
    crlf = text.replace("\n", "\r\n")
    assert _block_lines(crlf, None) == _event_lines(text, None)
    assert _event_lines(crlf, None) == _event_lines(text, None)
