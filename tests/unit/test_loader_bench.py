"""The benchmark script runs (at a tiny size: a smoke test, not a timing) and its generated
estate is valid (with and without profiles), so the figure it prints measures a real
validation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import validate_bench


def test_benchmark_runs_on_a_small_estate(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_bench.main(["--tenants", "3", "--users", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("validated 3 tenants, 20 users (")
    assert out.rstrip().endswith("users/s")


def test_benchmark_with_five_profiles_runs_on_a_small_estate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validate_bench.main(["--tenants", "12", "--users", "60", "--profiles", "5"]) == 0
    out = capsys.readouterr().out
    # A break-glass user from the baseline profile in each of the 12 tenants.
    assert out.startswith("validated 12 tenants, 5 profiles, 72 users (")
