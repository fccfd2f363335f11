"""Loading the desired state: YAML files -> validated models, or every problem at once.

Reads files and nothing else (no network). Every problem is a
:class:`~controller.errors.Diagnostic` with file, line and column; all of them are collected
before :class:`~controller.errors.DesiredStateError` is raised, never only the first.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from controller.errors import DesiredStateError, Diagnostic, UsageError
from controller.loader.crossref import GlobalKey, check_tenant, check_unique, tenant_keys
from controller.loader.shape import check_header, validate_model
from controller.loader.source import SourceFile, parse_yaml
from controller.models import DesiredState, MSPConfig, TenantConfig
from controller.regular_files import MIB, FileRefused, read_regular

__all__ = ["DesiredStateError", "load_desired", "load_file", "validate_desired"]

MSP_FILE = "msp.yaml"
TENANTS_DIR = "tenants"
#: One tenant file of tens of thousands of users is a few MiB.
MAX_FILE_BYTES = 32 * MIB


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def load_file(path: Path, *, within: Path | None = None) -> SourceFile:
    """One YAML file, read as :func:`~controller.regular_files.read_regular` reads what a pull
    request may have put there: a regular file (inside ``within``, when given) of at most
    :data:`MAX_FILE_BYTES`. Every refusal is a diagnostic at the file, never its content."""
    shown = _display(path)

    def refused(message: str) -> SourceFile:
        return SourceFile(shown, None, None, [Diagnostic(shown, 1, 1, "", message)])

    try:
        text = read_regular(path, limit=MAX_FILE_BYTES, within=within).decode("utf-8")
    except FileRefused as problem:
        return refused(str(problem))
    except UnicodeDecodeError as problem:
        return refused(f"not UTF-8 text ({problem.reason})")
    except OSError as problem:
        return refused(f"cannot read: {problem.strerror}")
    return parse_yaml(text, shown)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Loading a large estate creates millions of small objects that stay alive (nodes,
    strings, models) and form no reference cycles. The cyclic collector would rescan all of
    them again and again: on the 100,000-user benchmark it tripled the load time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_desired(directory: Path) -> tuple[DesiredState | None, list[Diagnostic]]:
    """Load and validate a desired-state directory. Returns the state only when there is no
    error; the diagnostics list holds every problem found."""
    if not directory.is_dir():
        raise UsageError(
            f"{directory} is not a directory; point --desired at the folder holding msp.yaml"
        )
    with _cyclic_gc_paused():
        return _validate(directory)


def _validate(directory: Path) -> tuple[DesiredState | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    msp_path = directory / MSP_FILE
    msp: MSPConfig | None = None
    msp_source: SourceFile | None = None
    if not msp_path.exists():  # a dangling link too; a FIFO or device is refused by load_file
        problems.append(
            Diagnostic(_display(msp_path), 1, 1, "", "missing: every desired state needs msp.yaml")
        )
    else:
        msp_source = load_file(msp_path, within=directory)
        problems += msp_source.diagnostics
        if msp_source.data is not None or not msp_source.diagnostics:
            header = check_header(msp_source, "MSP")
            problems += header
            if not header:
                msp, found = validate_model(msp_source, MSPConfig)
                problems += found

    tenants: list[TenantConfig] = []
    sources: dict[str, str] = {}
    keys: list[GlobalKey] = []
    declared_names: set[str] = set()
    tenant_dir = directory / TENANTS_DIR
    files = sorted(tenant_dir.glob("*.yaml")) + sorted(tenant_dir.glob("*.yml"))
    for path in files:
        source = load_file(path, within=directory)
        problems += source.diagnostics
        if source.data is None and source.diagnostics:
            continue
        found_keys = list(tenant_keys(source))
        keys += found_keys
        declared_names.update(k.value for k in found_keys if k.what == "tenant name")
        header = check_header(source, "Tenant")
        problems += header
        if header:
            continue
        tenant, found = validate_model(source, TenantConfig)
        problems += found
        if tenant is None:
            continue
        problems += check_tenant(tenant, source, msp)
        tenants.append(tenant)
        sources[tenant.metadata.name] = source.path

    problems += check_unique(keys)
    if msp is not None and msp_source is not None:
        for name in msp.spec.policy.tenants:
            if name not in declared_names:
                problems.append(
                    msp_source.diagnostic(
                        ["spec", "policy", "tenants", name],
                        f"policy names tenant {name!r}, which no file in {TENANTS_DIR}/ declares",
                        key=True,
                    )
                )
    errors = [p for p in problems if p.severity == "error"]
    if errors or msp is None:
        return None, sorted(problems)
    state = DesiredState(
        msp=msp,
        tenants=tuple(sorted(tenants, key=lambda t: t.metadata.name)),
        sources=sources,
    )
    return state, sorted(problems)


def load_desired(directory: Path) -> DesiredState:
    """Like :func:`validate_desired`, but raise :class:`DesiredStateError` on any error."""
    state, problems = validate_desired(directory)
    if state is None:
        raise DesiredStateError(problems)
    return state
