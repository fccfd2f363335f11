"""Same inputs give the same plan byte for byte; fingerprints are stable across runs, change
with a desired value or the relevant observed value, and ignore unrelated objects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

from controller.plan import plan_estate
from controller.plan.params import PARAMS_MODELS
from controller.render import render_json
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed
from tests.plan.factories import group, observed, plan, tenant, user

USERS = [
    {"userPrincipalName": "alice@contoso.com", "displayName": "Alice", "jobTitle": "Director"},
    {"userPrincipalName": "bob@contoso.com", "displayName": "Bob"},
]
GROUPS = [{"displayName": "Sales", "mailNickname": "sales", "members": ["bob@contoso.com"]}]


def _world(**changes: object) -> tuple[object, object]:
    seen_users = (
        user("alice@contoso.com", display_name="Alice", job_title="Manager"),
        user("bob@contoso.com", display_name="Bob"),
        user("eve@contoso.com", display_name="Eve"),
    )
    return tenant(users=USERS, groups=GROUPS), observed(
        users=seen_users, groups=(group("sales", "eve@contoso.com", display_name="Sales"),)
    )


def _fingerprints(desired: object, seen: object) -> dict[str, str]:
    return {op.id: op.fingerprint for op in plan(desired, seen).operations}  # type: ignore[arg-type]


def test_same_inputs_give_identical_json() -> None:
    state = demo_desired()
    first = render_json(plan_estate(state, demo_observed(state), demo_context(state)))
    second = render_json(plan_estate(state, demo_observed(state), demo_context(state)))
    assert first == second


def test_the_plan_is_the_same_in_another_interpreter_with_another_hash_seed() -> None:
    script = (
        "from tests.fixtures.demo_observed import *\n"
        "from controller.plan import plan_estate\n"
        "from controller.render import render_json\n"
        "s = demo_desired()\n"
        "print(render_json(plan_estate(s, demo_observed(s), demo_context(s))), end='')\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_plan_id_ignores_created_at_and_changes_with_content() -> None:
    state = demo_desired()
    ctx = demo_context(state)
    seen = demo_observed(state)
    a = plan_estate(state, seen, ctx)
    later = dataclasses.replace(ctx, now=ctx.now + dt.timedelta(seconds=5))
    b = plan_estate(state, seen, later)
    assert a.plan_id == b.plan_id and a.created_at != b.created_at
    seen["fabrikam"] = dataclasses.replace(seen["fabrikam"], groups=())
    assert plan_estate(state, seen, ctx).plan_id != a.plan_id


def test_list_order_in_the_tenant_file_does_not_change_the_plan() -> None:
    desired, seen = _world()
    reordered = tenant(users=list(reversed(USERS)), groups=GROUPS)
    assert plan(desired, seen) == plan(reordered, seen)  # type: ignore[arg-type]


def test_fingerprints_change_with_a_desired_value() -> None:
    desired, seen = _world()
    before = _fingerprints(desired, seen)
    users = [{**USERS[0], "jobTitle": "VP"}, USERS[1]]
    after = _fingerprints(tenant(users=users, groups=GROUPS), seen)
    update = "contoso/user.update/alice@contoso.com"
    assert before[update] != after[update]
    assert {k: v for k, v in before.items() if k != update} == {
        k: v for k, v in after.items() if k != update
    }


def test_fingerprints_change_with_the_relevant_observed_value() -> None:
    desired, seen = _world()
    before = _fingerprints(desired, seen)
    users = tuple(
        dataclasses.replace(u, job_title="Intern")
        if u.user_principal_name.startswith("alice")
        else u
        for u in seen.users  # type: ignore[attr-defined]
    )
    after = _fingerprints(desired, dataclasses.replace(seen, users=users))  # type: ignore[type-var]
    update = "contoso/user.update/alice@contoso.com"
    assert before[update] != after[update]
    assert (
        before["contoso/group.addMember/sales/bob@contoso.com"]
        == (after["contoso/group.addMember/sales/bob@contoso.com"])
    )


def test_fingerprints_ignore_unrelated_objects() -> None:
    desired, seen = _world()
    before = _fingerprints(desired, seen)
    users = (*seen.users, user("zed@contoso.com", job_title="New"))  # type: ignore[attr-defined]
    groups = (*seen.groups, group("other", "zed@contoso.com"))  # type: ignore[attr-defined]
    after = _fingerprints(desired, dataclasses.replace(seen, users=users, groups=groups))  # type: ignore[type-var]
    assert before == after


def test_fingerprints_change_when_the_object_is_replaced() -> None:
    desired, seen = _world()
    before = _fingerprints(desired, seen)
    groups = (group("sales", "eve@contoso.com", display_name="Sales", gid="new-id"),)
    after = _fingerprints(desired, dataclasses.replace(seen, groups=groups))  # type: ignore[type-var]
    key = "contoso/group.removeMember/sales/eve@contoso.com"
    assert before[key] != after[key]


def test_every_operation_carries_the_params_model_of_its_kind() -> None:
    state = demo_desired()
    ops = plan_estate(state, demo_observed(state), demo_context(state)).operations
    for op in ops:
        assert type(op.params) is PARAMS_MODELS[op.kind], op.id
