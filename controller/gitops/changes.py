"""``--changed-since REF``: which tenants a branch touched, so a pull request that edits one
tenant out of five hundred plans (and observes) one.

Runs ``git`` and reads files; makes no network call. What counts as changed is everything
between the merge base of REF and HEAD and the working tree: the branch's commits
(``git diff REF...HEAD``) plus staged, unstaged and untracked files, so a developer sees the
same selection locally before pushing as CI sees after.

A file maps to the tenant its ``metadata.name`` declares (not its file name): the current
file for added, modified and renamed files, the file as it was at the merge base for deleted
ones. A tenant whose name no longer appears in any changed file is reported as removed.

The selection errs towards planning more, never less: a change to ``msp.yaml`` (connections,
policy, defaults) affects every tenant, so does a change to a profile (it applies to the
tenants that name it or that its selector matches, before and after the change: planning
them all is the simple sure answer), and so does a changed tenant file whose name cannot be
read (it will fail validation anyway, with its location).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from controller.errors import UsageError

__all__ = ["ChangeSet", "changed_tenants"]

MSP_FILE = "msp.yaml"
TENANTS_DIR = "tenants"
PROFILES_DIR = "profiles"
TENANT_SUFFIXES = (".yaml", ".yml")  # what the loader reads: tenants/*.yaml and tenants/*.yml


@dataclass(frozen=True)
class ChangeSet:
    """The tenants a branch changed since ``ref``.

    ``changed``: tenants to plan (their file was added, modified or renamed);
    ``removed``: tenants whose file is gone (nothing left to plan; reported for the record);
    ``all_tenants``: plan every tenant, for the reason in ``all_reason``;
    ``files``: the changed desired-state files, relative to the repository root.
    """

    ref: str
    base: str  # the merge-base commit the comparison starts from
    changed: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    all_tenants: bool = False
    all_reason: str | None = None
    files: tuple[str, ...] = field(default=())

    def selects(self, tenant: str) -> bool:
        return self.all_tenants or tenant in self.changed


def _git(root: Path, *args: str) -> str:
    # LC_ALL=C keeps git's own messages stable; -z (where used) keeps paths unquoted.
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            check=False,
        )
    except FileNotFoundError as missing:
        raise UsageError("--changed-since needs git, which is not installed here") from missing
    if done.returncode != 0:
        raise _GitFailed(done.stderr.strip() or f"git {args[0]} exited {done.returncode}")
    return done.stdout


class _GitFailed(Exception):
    pass


def _repository_root(directory: Path) -> Path:
    try:
        return Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    except _GitFailed as problem:
        raise UsageError(
            f"--changed-since needs a git repository, and {directory} is not inside one ({problem})"
        ) from None


def _merge_base(root: Path, ref: str) -> str:
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except _GitFailed:
        raise UsageError(
            f"--changed-since: git does not know {ref!r}. In CI, fetch the base branch "
            "(actions/checkout with fetch-depth: 0, or git fetch origin <branch>)"
        ) from None
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except _GitFailed:
        raise UsageError("--changed-since: the repository has no commit yet (HEAD)") from None
    try:
        return _git(root, "merge-base", ref, "HEAD").strip()
    except _GitFailed:
        raise UsageError(
            f"--changed-since: {ref!r} and HEAD share no history here; a shallow clone hides it "
            "(actions/checkout with fetch-depth: 0)"
        ) from None


@dataclass(frozen=True)
class _FileChange:
    status: str  # A, M, D, R, C, T (git's letters)
    old: str | None  # path at the merge base
    new: str | None  # path in the working tree


def _parse_name_status(output: str) -> list[_FileChange]:
    fields = output.split("\0")
    changes: list[_FileChange] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":  # a rename or copy names two paths: old, then new
            old, new = fields[i + 1], fields[i + 2]
            changes.append(_FileChange(status, old if status == "R" else None, new))
            i += 3
            continue
        path = fields[i + 1]
        if status == "D":
            changes.append(_FileChange(status, path, None))
        elif status == "A":
            changes.append(_FileChange(status, None, path))
        else:
            changes.append(_FileChange(status, path, path))
        i += 2
    return changes


def _tenant_name(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
        name = data["metadata"].get("name")
        if isinstance(name, str) and name:
            return name
    return None


def changed_tenants(desired_dir: Path, ref: str) -> ChangeSet:
    """The tenants whose files under ``desired_dir/tenants/`` changed since ``ref``.

    Raises :class:`~controller.errors.UsageError` when ``desired_dir`` is not in a git
    repository, when ``ref`` is unknown, or when ``ref`` and HEAD share no history.
    """
    if not desired_dir.is_dir():
        raise UsageError(f"{desired_dir} is not a directory; point --desired at it")
    root = _repository_root(desired_dir)
    try:
        desired = PurePosixPath(desired_dir.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:  # pragma: no cover - rev-parse found the root above desired_dir
        raise UsageError(f"{desired_dir} is outside the repository at {root}") from None
    base = _merge_base(root, ref)

    scope = str(desired)
    # One diff from the merge base to the working tree: the branch's commits and any staged or
    # unstaged edit, netted out (a file added then deleted again is no change).
    diff = _git(
        root, "diff", "--name-status", "-z", "--find-renames", "--no-ext-diff", base, "--", scope
    )
    changes = _parse_name_status(diff)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", scope)
    changes += [_FileChange("A", None, path) for path in untracked.split("\0") if path]

    msp_path = str(desired / MSP_FILE)
    tenants_dir = desired / TENANTS_DIR

    def is_tenant_file(path: str, folder: PurePosixPath = tenants_dir) -> bool:
        pure = PurePosixPath(path)
        return pure.parent == folder and pure.suffix in TENANT_SUFFIXES

    def is_profile(path: str | None) -> bool:
        return path is not None and is_tenant_file(path, desired / PROFILES_DIR)

    files: set[str] = set()
    changed: set[str] = set()
    old_names: set[str] = set()
    all_reason: str | None = None
    for change in changes:
        if msp_path in (change.old, change.new):
            files.add(msp_path)
            all_reason = all_reason or f"{MSP_FILE} changed: it applies to every tenant"
            continue
        profile = next((p for p in (change.new, change.old) if is_profile(p)), None)
        if profile is not None:
            files.add(profile)
            shown = PurePosixPath(profile).relative_to(desired)
            all_reason = all_reason or f"{shown} changed: a profile may apply to any tenant"
            continue
        relevant = [p for p in (change.old, change.new) if p is not None and is_tenant_file(p)]
        if not relevant:
            continue
        files.update(relevant)
        if change.new is not None and is_tenant_file(change.new):
            name = _tenant_name(_read(root / change.new))
            if name is None:
                all_reason = all_reason or (
                    f"{change.new} changed and its metadata.name cannot be read"
                )
            else:
                changed.add(name)
        if change.old is not None and is_tenant_file(change.old):
            old_name = _tenant_name(_show(root, base, change.old))
            if old_name is not None:
                old_names.add(old_name)

    # A tenant is removed only when no current file declares it any more: a file renamed by
    # hand (deleted and re-added) keeps its tenant, and a file whose name changed removes the
    # old one. Unchanged files are consulted too, so a name that moved into a file this branch
    # did not touch is not called removed.
    removed = old_names - changed
    if removed:
        removed -= _names_declared(root / tenants_dir)
    return ChangeSet(
        ref=ref,
        base=base,
        changed=frozenset(changed),
        removed=frozenset(removed),
        all_tenants=all_reason is not None,
        all_reason=all_reason,
        files=tuple(sorted(files)),
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _show(root: Path, commit: str, path: str) -> str | None:
    try:
        return _git(root, "show", f"{commit}:{path}")
    except _GitFailed:
        return None


def _names_declared(tenants_dir: Path) -> set[str]:
    names: set[str] = set()
    for suffix in TENANT_SUFFIXES:
        for path in tenants_dir.glob(f"*{suffix}"):
            name = _tenant_name(_read(path))
            if name is not None:
                names.add(name)
    return names
