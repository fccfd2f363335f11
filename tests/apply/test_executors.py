"""The executors: one per operation kind, each given the params model of its kind."""

from __future__ import annotations

import asyncio

import pytest

from controller.apply.executors import EXECUTORS
from controller.models import OperationKind
from tests.policy.factory import op


def test_every_kind_has_an_executor() -> None:
    assert set(EXECUTORS) == set(OperationKind)


def test_an_executor_refuses_params_of_another_kind() -> None:
    """Operation validates params by kind, so this is a bug caught, not a call sent."""
    group_create = op("group.create", "group:sales")
    with pytest.raises(TypeError, match=r"params of group\.create, not UserCreateParams"):
        asyncio.run(EXECUTORS[OperationKind.USER_CREATE](None, group_create))  # type: ignore[arg-type]
