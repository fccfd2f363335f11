"""Loading the desired state: YAML files -> validated models, or every problem at once.

Reads files and nothing else (no network). Every problem is a
:class:`~controller.errors.Diagnostic` with file, line and column; all of them are collected
before :class:`~controller.errors.DesiredStateError` is raised, never only the first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from controller.collector import collector_paused
from controller.errors import DesiredStateError, Diagnostic, UsageError
from controller.loader.crossref import GlobalKey, check_tenant, check_unique, tenant_keys
from controller.loader.merge import Conflict
from controller.loader.profiles import (
    PROFILES_DIR,
    Profile,
    apply_profiles,
    choose_profiles,
    conflict_diagnostics,
    profile_declarations,
    provenance_entries,
    read_profiles,
)
from controller.loader.shape import check_header, validate_model
from controller.loader.source import SourceFile, parse_yaml
from controller.models import (
    AppliedProfile,
    DesiredState,
    MSPConfig,
    ProfileReport,
    Provenance,
    TenantConfig,
    TenantSpec,
)
from controller.regular_files import MIB, FileRefused, read_regular

__all__ = [
    "DesiredStateError",
    "check_tenant_text",
    "load_desired",
    "load_file",
    "load_msp",
    "profile_declarations",
    "tenant_file_spec",
    "validate_desired",
]

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


def validate_desired(directory: Path) -> tuple[DesiredState | None, list[Diagnostic]]:
    """Load and validate a desired-state directory. Returns the state only when there is no
    error; the diagnostics list holds every problem found."""
    if not directory.is_dir():
        raise UsageError(
            f"{directory} is not a directory; point --desired at the folder holding msp.yaml"
        )
    with collector_paused():
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

    profile_files = _yaml_files(directory / PROFILES_DIR)
    profile_sources = [load_file(path, within=directory) for path in profile_files]
    profiles, broken, found = read_profiles(profile_sources)
    problems += found

    estate = _Estate()
    keys: list[GlobalKey] = []
    declared_names: set[str] = set()
    for path in _yaml_files(directory / TENANTS_DIR):
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
        problems += estate.add(source, msp, profiles, broken)

    problems += check_unique(keys)
    problems += conflict_diagnostics(estate.conflicts)
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
    problems = list(dict.fromkeys(problems))  # a tenant and its report view may say it twice
    errors = [p for p in problems if p.severity == "error"]
    if errors or msp is None:
        return None, sorted(problems)
    state = DesiredState(
        msp=msp,
        tenants=tuple(sorted(estate.tenants, key=lambda t: t.metadata.name)),
        sources=estate.sources,
        profiles={name: profile.file for name, profile in sorted(profiles.items())},
        applied=estate.applied,
        provenance=estate.provenance,
        reports=estate.reports,
    )
    return state, sorted(problems)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


class _Estate:
    """The tenants validated so far, with what the plan needs besides their models."""

    def __init__(self) -> None:
        self.tenants: list[TenantConfig] = []
        self.sources: dict[str, str] = {}
        self.applied: dict[str, tuple[AppliedProfile, ...]] = {}
        self.provenance: dict[str, Provenance] = {}
        self.reports: dict[str, ProfileReport] = {}
        self.conflicts: list[tuple[str, Conflict]] = []

    def add(
        self,
        source: SourceFile,
        msp: MSPConfig | None,
        profiles: dict[str, Profile],
        broken: set[str],
    ) -> list[Diagnostic]:
        """Validate one tenant file (with its profiles); every problem found."""
        chosen = choose_profiles(source, profiles, broken)
        problems = list(chosen.problems)
        if chosen.broken:
            return problems  # its profile's errors are reported; the rest waits for the fix
        if not chosen.profiles:
            tenant, found = validate_model(source, TenantConfig)
            problems += found
            if tenant is not None:
                problems += check_tenant(tenant, source, msp)
                self._keep(tenant, source, [], ())
            return problems
        applied = apply_profiles(source, chosen.profiles)
        problems += applied.problems
        tenant, found = validate_model(applied.enforced, TenantConfig)
        problems += found
        if tenant is not None:
            problems += check_tenant(tenant, applied.enforced, msp)
            self.conflicts += [(tenant.metadata.name, c) for c in applied.conflicts]
        report: TenantConfig | None = None
        if applied.full is not None:
            report, found = validate_model(applied.full, TenantConfig)
            problems += found
            if report is not None:
                problems += check_tenant(report, applied.full, msp)
        if tenant is not None:
            named = {n for n in tenant.spec.profiles}
            self._keep(tenant, source, chosen.profiles, chosen.applied(named))
            if report is not None:
                self.reports[tenant.metadata.name] = ProfileReport(
                    config=report,
                    profiles=tuple(p.file.name for p in chosen.profiles if p.file.mode == "report"),
                    provenance=self._provenance(source, chosen.profiles, enforced_only=False),
                )
        return problems

    def _keep(
        self,
        tenant: TenantConfig,
        source: SourceFile,
        profiles: list[Profile],
        applied: tuple[AppliedProfile, ...],
    ) -> None:
        name = tenant.metadata.name
        self.tenants.append(tenant)
        self.sources[name] = source.path
        if applied:
            self.applied[name] = applied
        self.provenance[name] = self._provenance(
            source, profiles, enforced_only=True, tenant=tenant
        )

    @staticmethod
    def _provenance(
        source: SourceFile,
        profiles: list[Profile],
        *,
        enforced_only: bool,
        tenant: TenantConfig | None = None,
    ) -> Provenance:
        text = source.text or ""

        def own_data() -> Any:
            # A tenant without profiles is its own file: the model holds the same keys, lists
            # and order as the file, so the file need not be parsed again to name its lines.
            return None if tenant is None else tenant.model_dump(by_alias=True, exclude_unset=True)

        entries = provenance_entries(
            source.path, text, profiles, enforced_only=enforced_only, own_data=own_data
        )
        return Provenance(entries, some=entries)


def check_tenant_text(
    text: str, path: str, state: DesiredState
) -> tuple[TenantConfig | None, list[Diagnostic]]:
    """The checks ``validate`` makes on one tenant file, on its text, with the estate's
    profiles applied (the uniqueness of names, ids and domains across files is the caller's).
    """
    source = parse_yaml(text, path)
    problems = list(source.diagnostics) or check_header(source, "Tenant")
    if problems:
        return None, problems
    estate = _Estate()
    profiles = {name: Profile.of(file) for name, file in state.profiles.items()}
    problems = estate.add(source, state.msp, profiles, set())
    errors = [p for p in problems if p.severity == "error"]
    return (estate.tenants[0] if estate.tenants and not errors else None), problems


def tenant_file_spec(path: Path, keep: tuple[str, ...]) -> TenantSpec | None:
    """The ``keep`` parts of a tenant file's own spec (without its profiles), or None when
    the file does not hold them validly."""
    data = load_file(path).data
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict):
        return None
    try:
        return TenantSpec.model_validate({k: spec[k] for k in keep if k in spec}, by_name=False)
    except ValueError:
        return None


def load_msp(directory: Path) -> MSPConfig | None:
    """Only ``msp.yaml`` of a desired-state directory (``history`` needs no tenant to find
    the journal): None when there is none; a :class:`DesiredStateError` when it is invalid."""
    path = directory / MSP_FILE
    if not path.is_file():
        return None
    source = load_file(path, within=directory)
    problems = list(source.diagnostics)
    msp: MSPConfig | None = None
    if source.data is not None or not problems:
        problems += check_header(source, "MSP")
        if not problems:
            msp, found = validate_model(source, MSPConfig)
            problems += found
    errors = [p for p in problems if p.severity == "error"]
    if errors or msp is None:
        raise DesiredStateError(sorted(problems))
    return msp


def load_desired(directory: Path) -> DesiredState:
    """Like :func:`validate_desired`, but raise :class:`DesiredStateError` on any error."""
    state, problems = validate_desired(directory)
    if state is None:
        raise DesiredStateError(problems)
    return state
