"""``--shard K/N``: parsing, a partition of the estate, balance, and stability.

Stability is the point of sharding a GitOps estate: a tenant must stay on the same CI matrix
leg (and so in the same journal, log and notification) from run to run and machine to machine,
and adding a customer must not reshuffle everybody else.

Balance figures measured on 1,000 random tenant ids (five seeds), as the largest distance of
a shard's size from the mean: N=2 0.6-5.2 %, N=3 2.8-10.1 %, N=4 3.6-8.0 %, N=8 11-18 %,
N=16 28-38 %; as the gap between the largest and smallest shard, 2-6 % of all tenants for
every N. That is the multinomial spread any stable hashing scheme has (one standard deviation
is ``sqrt(n/N)`` tenants), so the bounds below are stated in standard deviations.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from controller.errors import UsageError
from controller.gitops.shard import Shard, parse_shard, select, shard_of
from controller.loader import load_desired

REPO = Path(__file__).resolve().parents[2]


def random_tenant_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", Shard(1, 1)), ("3/4", Shard(3, 4)), (" 2 / 8 ", Shard(2, 8))]
)
def test_parse_shard_accepts_k_of_n(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert str(parse_shard(text)) == f"{expected.index}/{expected.total}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/3", "K counts from 1 to N"),
        ("4/3", "K counts from 1 to N"),
        ("1/0", "between 1 and"),
        ("x", "expects K/N"),
        ("", "expects K/N"),
        ("1/2/3", "expects K/N"),
        ("-1/3", "expects K/N"),
        ("1.5/3", "expects K/N"),
        ("1/100000", "between 1 and"),
    ],
)
def test_parse_shard_rejects_what_is_not_a_shard(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_shard(text)


# --- a partition ------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 7, 16])
def test_every_tenant_lands_in_exactly_one_shard(total: int) -> None:
    tenants = random_tenant_ids(1000, seed=1)
    shards = [select(tenants, Shard(k, total)) for k in range(1, total + 1)]
    assert sorted(t for shard in shards for t in shard) == sorted(tenants)
    for k, members in enumerate(shards, start=1):
        assert all(shard_of(t, total) == k for t in members)


def test_select_keeps_the_original_order() -> None:
    tenants = random_tenant_ids(50, seed=2)
    chosen = select(tenants, Shard(1, 3))
    assert chosen == [t for t in tenants if t in set(chosen)]


def test_tenant_ids_are_compared_without_case_or_padding() -> None:
    tenant = "6F1C0D4E-2A3B-4C5D-8E9F-0A1B2C3D4E5F"
    assert shard_of(tenant, 8) == shard_of(f" {tenant.lower()} ", 8)


def test_tenant_configs_are_sharded_by_tenant_id() -> None:
    tenants = load_desired(REPO / "desired").tenants
    for total in (2, 3):
        for k in range(1, total + 1):
            expected = [t for t in tenants if shard_of(t.metadata.tenant_id, total) == k]
            assert select(tenants, Shard(k, total)) == expected


def test_anything_else_needs_a_key() -> None:
    with pytest.raises(TypeError, match="pass key="):
        select([42], Shard(1, 2))
    assert select([("a", "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f")], Shard(2, 2), key=lambda p: p[1])


# --- balance ----------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [2, 3, 4, 5, 8, 10, 16])
@pytest.mark.parametrize("seed", range(5))
def test_shards_are_balanced_on_a_thousand_tenants(total: int, seed: int) -> None:
    count = 1000
    sizes = Counter(shard_of(t, total) for t in random_tenant_ids(count, seed))
    assert set(sizes) == set(range(1, total + 1))
    mean = count / total
    sigma = math.sqrt(count * (1 / total) * (1 - 1 / total))
    # The ideal multinomial: every shard within 4 standard deviations of the mean, and the
    # largest and smallest shard apart by at most 6 % of the estate (measured: 0.6-6.0 %).
    assert max(abs(size - mean) for size in sizes.values()) <= 4 * sigma
    assert max(sizes.values()) - min(sizes.values()) <= 0.06 * count


def test_two_shards_split_within_a_few_percent() -> None:
    for seed in range(5):
        sizes = Counter(shard_of(t, 2) for t in random_tenant_ids(1000, seed))
        assert all(abs(size - 500) <= 30 for size in sizes.values())  # measured: at most 26


# --- stability ----------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [2, 4, 10])
def test_adding_tenants_moves_no_existing_tenant(total: int) -> None:
    existing = random_tenant_ids(1000, seed=3)
    before = {t: shard_of(t, total) for t in existing}
    grown = existing + random_tenant_ids(100, seed=4)
    for k in range(1, total + 1):
        after = select(grown, Shard(k, total))
        assert [t for t in after if t in before] == [t for t in existing if before[t] == k]


def test_adding_a_shard_only_moves_tenants_onto_the_new_shard() -> None:
    tenants = random_tenant_ids(1000, seed=5)
    for total in (2, 4, 9):
        moved = [t for t in tenants if shard_of(t, total) != shard_of(t, total + 1)]
        assert all(shard_of(t, total + 1) == total + 1 for t in moved)
        # about 1/(N+1) of the estate moves, not nearly all of it as with hash % N
        expected = len(tenants) / (total + 1)
        assert abs(len(moved) - expected) <= 4 * math.sqrt(expected)


PINNED = {
    "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f": [1, 2, 2, 2, 2],
    "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1": [1, 2, 2, 4, 6],
    "9d8c7b6a-5f4e-4d3c-a2b1-0f9e8d7c6b5a": [1, 2, 3, 3, 7],
}


@pytest.mark.parametrize("tenant", sorted(PINNED))
def test_the_assignment_is_pinned(tenant: str) -> None:
    # Changing the hash would move every tenant of every estate to another CI leg: these
    # values (shards among 1, 2, 3, 4 and 8) change only on purpose, with a changelog note.
    assert [shard_of(tenant, n) for n in (1, 2, 3, 4, 8)] == PINNED[tenant]


def test_every_process_computes_the_same_assignment() -> None:
    tenants = random_tenant_ids(200, seed=6)
    here = [shard_of(t, 7) for t in tenants]
    script = (
        "import sys\n"
        "from controller.gitops.shard import shard_of\n"
        "print(','.join(str(shard_of(t, 7)) for t in sys.stdin.read().split()))\n"
    )
    for hash_seed in ("0", "1", "12345"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            input="\n".join(tenants),
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert [int(k) for k in done.stdout.strip().split(",")] == here
