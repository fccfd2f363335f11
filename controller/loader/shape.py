"""Validating parsed data against the models, with pydantic's errors turned into located
diagnostics an MSP engineer can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from controller.errors import Diagnostic
from controller.loader.source import SourceFile
from controller.models import API_VERSION, MSPConfig, ProfileConfig, TenantConfig
from controller.models.common import shown_value

M = TypeVar("M", bound=BaseModel)

KINDS: dict[str, type[BaseModel]] = {
    "MSP": MSPConfig,
    "Tenant": TenantConfig,
    "Profile": ProfileConfig,
}


_WHAT = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}


def check_header(source: SourceFile, expected_kind: str) -> list[Diagnostic]:
    """The document must be a mapping with our apiVersion and the kind this file should hold."""
    data = source.data
    if not isinstance(data, dict):
        shown = "empty" if data is None else _WHAT.get(type(data), f"a {type(data).__name__}")
        line, column = source.locate([]) if data is not None else (1, 1)
        return [
            Diagnostic(
                source.path,
                line,
                column,
                "",
                f"the document is {shown}; expected a mapping with apiVersion, kind, "
                "metadata and spec",
            )
        ]
    problems = []
    version = data.get("apiVersion")
    if version != API_VERSION:
        problems.append(
            source.diagnostic(
                ["apiVersion"],
                f"apiVersion must be {API_VERSION!r}"
                + (f", not {version!r}" if version is not None else " (missing)"),
            )
        )
    kind = data.get("kind")
    if kind != expected_kind:
        problems.append(
            source.diagnostic(
                ["kind"],
                f"kind must be {expected_kind!r} in this file"
                + (f", not {kind!r}" if kind is not None else " (missing)"),
            )
        )
    return problems


def validate_model(source: SourceFile, model: type[M]) -> tuple[M | None, list[Diagnostic]]:
    try:
        return model.model_validate(source.data, by_name=False), []
    except ValidationError as invalid:
        problems: dict[tuple[int, int, str], Diagnostic] = {}
        for error in invalid.errors(include_url=False, include_input=False):
            found = _diagnostic(source, model, error)
            # A value that fits no branch of a union (``datetime | date``) fails once per
            # branch, at the same place: report it once.
            problems.setdefault((found.line, found.column, found.path), found)
        return None, list(problems.values())
    except RecursionError:
        return None, [source.diagnostic([], "the document is nested too deeply to validate")]


def _diagnostic(source: SourceFile, model: type[BaseModel], error: ErrorDetails) -> Diagnostic:
    loc = list(error["loc"])
    kind = error["type"]
    if loc and loc[-1] == "[key]":  # a mapping key failed (e.g. policy kinds): point at it
        message = error["msg"].removeprefix("Value error, ")
        return source.diagnostic(loc[:-1], message, key=True)
    if kind == "extra_forbidden":
        name = loc[-1]
        known = _fields_at(model, loc[:-1])
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(str(name), known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif known:
            message += f"; expected one of: {', '.join(sorted(known))}"
        return source.diagnostic(loc, message, key=True)
    if kind == "missing":
        return source.diagnostic(loc, f"missing required field {loc[-1]!r}")
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "string_type" and isinstance(_value_at(source.data, loc), int | float):
        message += " (YAML read a number or true/false here: put it in quotes)"
    if kind == "bool_type":
        # pydantic's lax mode took these; the JSON Schema (and an editor using it) never did.
        message = (
            f"{shown_value(_value_at(source.data, loc))} is not a boolean: write true or false, "
            "unquoted (YAML 1.2 reads yes, off, 1 and 'false' as text or numbers)"
        )
    if kind == "int_type":
        value = _value_at(source.data, loc)
        quoted = isinstance(value, str) and value.strip().isdigit()
        message = f"{shown_value(value)} is not a whole number: " + (
            "remove the quotes" if quoted else "write one, e.g. 5"
        )
    if kind == "string_pattern_mismatch":
        shown = _value_at(source.data, loc)
        # "String should match pattern '^[0-9A-F]...'": keep the pattern's case
        message = (
            f"{shown!r} does not match the expected format ({message[:1].lower()}{message[1:]})"
        )
    return source.diagnostic(loc, message)


def _value_at(data: Any, loc: list[str | int]) -> Any:
    for element in loc:
        if isinstance(data, dict | list):
            try:
                data = data[element]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                continue  # a union tag or a missing field
    return data


def _fields_at(model: type[BaseModel], loc: list[str | int]) -> list[str]:
    """The YAML keys the model accepts at ``loc`` (for 'did you mean' hints)."""
    current: Any = model
    for element in loc:
        current = _step(current, element)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated until a model, list or dict remains."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        else:
            return annotation


def _step(annotation: Any, element: str | int) -> Any:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if element in (name, info.alias):
                return info.annotation
        return None
    if origin is list and isinstance(element, int):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    return annotation if isinstance(element, str) and not origin else None
