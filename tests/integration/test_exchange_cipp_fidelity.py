"""Exchange and CIPP as the real services behave (issue 12, items 5 to 12), against the sandbox,
which follows the cited sources: each test here failed on the code before the fix.

- CIPP's failures are read from their body: AddGroup's and ExecGroupsDelete's 500 "Failed…",
  AddSharedMailbox's and the lists' 403 are the endpoint's own failure (a ServiceFault with
  CIPP's words), sent once, never a missing role and never a create sent again (item 7).
"""

from __future__ import annotations

from typing import Any

import pytest

from controller.connectors import Connections
from controller.errors import PermissionDenied, ServiceFault
from controller.models import DesiredState
from controller.sandbox import Sandbox
from tests.integration.connectors_support import CONTOSO, FABRIKAM, WOODGROVE, run


def sent(sandbox: Sandbox, endpoint: str) -> int:
    """How many times tenantctl sent ``endpoint`` to CIPP."""
    return sum(
        1
        for r in sandbox.requests
        if r.service == "cipp" and r.path.partition("?")[0] == f"/api/{endpoint}"
    )


# -- item 7: CIPP's failure statuses ---------------------------------------------------------


def test_a_failed_add_group_is_cipps_answer_sent_once(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def body(c: Connections) -> Any:
        # allstaff@contoso.com is taken: New-DistributionGroup refuses, AddGroup answers 500.
        return await c.cipp().add_distribution_group(CONTOSO, "All", "allstaff", "contoso.com")

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 500
    assert (caught.value.code or "").startswith("Failed to create group.")
    assert sent(sandbox, "AddGroup") == 1


def test_a_failed_group_delete_is_cipps_answer_sent_once(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    ghost = "00000000-0000-4000-8000-00000000dead"

    async def body(c: Connections) -> Any:
        return await c.cipp().delete_group(
            CONTOSO, ghost, group_type="Distribution list", display_name="ghost"
        )

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 500
    assert (caught.value.code or "").startswith("Could not delete ghost.")
    assert sent(sandbox, "ExecGroupsDelete") == 1


def test_a_failed_shared_mailbox_create_is_a_fault_not_a_missing_role(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def body(c: Connections) -> Any:
        return await c.cipp().add_shared_mailbox(FABRIKAM, "Accounts", "accounts", "fabrikam.com")

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 403
    assert (caught.value.code or "").startswith("Failed to create shared mailbox.")
    assert sent(sandbox, "AddSharedMailbox") == 1


def test_a_failed_list_is_a_fault_and_the_access_check_a_missing_role(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def unknown_mailbox(c: Connections) -> Any:
        return await c.cipp().mailbox_permissions(FABRIKAM, "nobody@fabrikam.com")

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, unknown_mailbox)
    assert caught.value.status == 403 and "couldn't be found" in caught.value.message

    async def not_cipps(c: Connections) -> Any:
        return await c.cipp().list_mailboxes(WOODGROVE)

    with pytest.raises(PermissionDenied) as refused:
        run(sandbox, demo_state, not_cipps)
    assert refused.value.message == "Access to this tenant is not allowed"
