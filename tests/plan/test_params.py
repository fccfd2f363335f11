"""Typed operation params: one model per operation kind, carried through plan JSON.

Covers: every kind has a params model; the JSON of params is what it was when params were
plain dicts (optional fields left out, ids written as null, no ``kind`` key), so a plan file
written before loads and keeps its plan id; plan JSON round-trips through the union, which
picks the model by the operation's kind and refuses params of another kind; the JSON Schema
says the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from controller.errors import ApprovalError
from controller.models import OperationKind
from controller.plan import Backend, Operation, Plan
from controller.plan.params import (
    PARAMS_MODELS,
    DistributionGroupCreateParams,
    ExchangeCreateParams,
    SharedMailboxCreateParams,
)
from controller.policy.approvals import read_plan
from controller.render import render_json
from controller.schemas import render_schema
from tests.fixtures.operation_params import EXAMPLES, example_params
from tests.policy.factory import op, plan, tenant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OLD_PLAN = FIXTURES / "plan_written_with_dict_params.json"


def _every_kind() -> Plan:
    return plan(tenant("contoso", *(op(kind.value, f"x:{kind.value}") for kind in OperationKind)))


def test_every_operation_kind_has_a_params_model() -> None:
    assert set(PARAMS_MODELS) == set(OperationKind)
    assert len(set(PARAMS_MODELS.values())) == len(OperationKind)
    assert {kind: type(EXAMPLES[kind]) for kind in OperationKind} == PARAMS_MODELS


def test_plan_json_round_trips_through_the_union() -> None:
    before = _every_kind()
    text = render_json(before)
    after = Plan.model_validate_json(text)
    assert after == before
    assert render_json(after) == text
    for operation in after.operations:
        assert type(operation.params) is PARAMS_MODELS[operation.kind]


def test_params_in_json_carry_no_kind_and_leave_out_what_is_absent() -> None:
    ops = {
        o["kind"]: o["params"]
        for o in json.loads(render_json(_every_kind()))["tenants"][0]["operations"]
    }
    assert not any("kind" in params for params in ops.values())
    # ``jobTitle`` given, ``givenName`` not: left out, not null
    assert ops["user.create"]["body"] == {
        "accountEnabled": True,
        "displayName": "Alice",
        "mailNickname": "alice",
        "userPrincipalName": "alice@contoso.com",
        "jobTitle": "Director",
        "passwordProfile": {"forceChangePasswordNextSignIn": True},
    }
    # an id of an object this plan creates is there, as null
    assert ops["user.assignLicenses"]["userId"] is None
    assert ops["distributionGroup.create"] == {
        "name": "All Staff",
        "displayName": "All Staff",
        "primarySmtpAddress": "all@contoso.com",
    }


def test_a_plan_written_before_the_output_contract_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    """The file is the demo plan as ``tenantctl plan`` wrote it before params were typed and
    keys were camelCase (format version 1): approving it needs a new plan, never a guess."""
    path = tmp_path / "plan.json"
    path.write_text(OLD_PLAN.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ApprovalError, match="plan of format version 1 written by an older"):
        read_plan(path)


def test_params_are_picked_by_the_operations_kind() -> None:
    """distributionGroup.create and sharedMailbox.create have the same fields: the kind picks."""
    data = json.loads(render_json(_every_kind()))
    for operation in data["tenants"][0]["operations"]:
        if operation["kind"] == "sharedMailbox.create":
            operation["params"] = example_params("distributionGroup.create").model_dump(mode="json")
    loaded = Plan.model_validate(data)
    [mailbox] = [o for o in loaded.operations if o.kind is OperationKind.SHARED_MAILBOX_CREATE]
    assert isinstance(mailbox.params, SharedMailboxCreateParams)
    assert isinstance(mailbox.params, ExchangeCreateParams)
    assert not isinstance(mailbox.params, DistributionGroupCreateParams)


def _operation(**fields: Any) -> dict[str, Any]:
    return {
        "id": "contoso/x",
        "tenant": "contoso",
        "tenant_id": "t",
        "target": "user:alice@contoso.com",
        "backend": "graph",
        "fingerprint": "f",
        **fields,
    }


@pytest.mark.parametrize(
    ("kind", "params", "wrong"),
    [
        ("user.create", {"userId": "u1", "body": {}}, "userId"),
        ("user.assignLicenses", {"userPrincipalName": "a@b.c", "addLicenses": []}, "userId"),
        (
            "mailboxPermission.add",
            {"identity": "i", "id": None, "right": "ReadOnly", "holder": "h", "holderId": None},
            "right",
        ),
    ],
)
def test_params_that_do_not_fit_the_kind_are_refused(
    kind: str, params: dict[str, Any], wrong: str
) -> None:
    with pytest.raises(ValidationError, match=wrong):
        Operation.model_validate(_operation(kind=kind, params=params))


def test_params_of_another_kind_are_refused_when_built_in_python() -> None:
    with pytest.raises(ValidationError, match=r"params of group\.create given to a user\.create"):
        Operation(
            **_operation(kind=OperationKind.USER_CREATE, backend=Backend.GRAPH),
            params=example_params("group.create"),
        )


def test_the_plan_schema_checks_params_by_kind() -> None:
    schema = json.loads(render_schema(Plan))
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(json.loads(render_json(_every_kind())))
    for kind, params in (
        ("user.create", {**example_params("user.create").model_dump(mode="json"), "x": 1}),
        ("user.create", example_params("group.create").model_dump(mode="json")),
        ("sharedMailbox.delete", example_params("sharedMailbox.create").model_dump(mode="json")),
    ):
        data = json.loads(render_json(_every_kind()))
        [operation] = [o for o in data["tenants"][0]["operations"] if o["kind"] == kind]
        operation["params"] = params
        assert not validator.is_valid(data), (kind, params)
