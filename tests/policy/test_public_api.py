"""The public surface of ``controller.policy`` and ``controller.apply``: ``__all__`` is sorted
and every name in it exists."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["controller.policy", "controller.apply"])
def test_all_is_sorted_and_importable(module: str) -> None:
    package = importlib.import_module(module)
    names: list[str] = package.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(package, name), name
