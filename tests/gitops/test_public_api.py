"""The public surface of ``controller.gitops``: what the plan, apply and status commands import."""

from __future__ import annotations

from controller import gitops
from controller.gitops import changes, checkout, notify, shard, templates


def test_the_package_exports_each_module_public_names() -> None:
    modules = (changes, checkout, notify, shard, templates)
    assert sorted(gitops.__all__) == sorted(name for m in modules for name in m.__all__)
    for name in gitops.__all__:
        assert getattr(gitops, name) is not None
