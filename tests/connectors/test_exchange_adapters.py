"""Exchange as an adapter: which implementation a route gets, and the promises both keep.

Covers: ``Connections.exchange_adapter`` picks ``DirectExchange`` for ``direct`` and
``CippExchange`` for ``cipp`` (and refuses a CIPP route without CIPP); the direct adapter
turns Exchange refusing the app on a listing or a write into ``PropagationPending`` (the role
is not effective yet) but leaves a refused read of one object's permissions as what it is;
a direct write that reading back does not show is ``PropagationPending``; holders come back
as Exchange names them; what CIPP cannot do is ``NeedsHuman``. Apply's session takes the
route from the plan, once per tenant. No network: a mock transport stands in for the services.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.apply.secret_sink import DirectorySink
from controller.apply.session import TenantSession, exchange_route
from controller.connectors import CippExchange, DirectExchange, ObjectRef, Recipient
from controller.errors import NeedsHuman, PermissionDenied, PropagationPending, UsageError
from controller.models import MailboxRight
from controller.plan import Backend
from tests.connectors.conftest import TENANT, body, make_settings, run
from tests.policy.factory import op, tenant

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def _exchange(answers: dict[str, Any]) -> Any:
    """A handler answering each cmdlet by name: a list of rows, or an ``httpx.Response``."""

    def handler(request: httpx.Request) -> httpx.Response:
        cmdlet = body(request)["CmdletInput"]["CmdletName"]
        answer = answers[cmdlet]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"value": answer})

    return handler


def _refused() -> httpx.Response:
    return httpx.Response(403, json={"error": {"code": "Forbidden", "message": "no role"}})


# -- choosing the adapter ---------------------------------------------------------------------


def test_the_route_picks_the_adapter(connect: Any) -> None:
    connections = connect(_exchange({}))
    assert isinstance(connections.exchange_adapter(TENANT, "direct"), DirectExchange)
    cipp = connections.exchange_adapter(TENANT, "cipp")
    assert isinstance(cipp, CippExchange)
    assert (cipp.route, cipp.via) == ("cipp", " through CIPP")
    with pytest.raises(ValueError, match="no Exchange route 'graph'"):
        connections.exchange_adapter(TENANT, "graph")


def test_a_cipp_route_without_cipp_is_a_usage_error(connect: Any) -> None:
    connections = connect(_exchange({}), settings=make_settings(cipp=False))
    with pytest.raises(UsageError, match="CIPP is not configured"):
        connections.exchange_adapter(TENANT, "cipp")


def test_apply_takes_the_tenants_route_from_its_plan_once(connect: Any, tmp_path: Path) -> None:
    direct = tenant(
        "contoso",
        op("distributionGroup.create", "a", backend=Backend.EXCHANGE),
        op("mailboxPermission.add", "b", backend=Backend.EXCHANGE),
        op("consent.grant", "c", backend=Backend.CIPP),  # not an Exchange operation
    )
    assert exchange_route(direct) == "direct"
    assert exchange_route(tenant("f", op("sharedMailbox.create", "a", backend=Backend.CIPP))) == (
        "cipp"
    )
    assert exchange_route(tenant("n", op("user.create", "a"))) is None
    mixed = tenant(
        "m",
        op("sharedMailbox.create", "a", backend=Backend.CIPP),
        op("sharedMailbox.delete", "b", backend=Backend.EXCHANGE),
    )
    assert exchange_route(mixed) is None

    sink = DirectorySink(tmp_path / "sink")
    session = TenantSession.of(direct, connect(_exchange({})), sink=sink, now=NOW, run_id=1)
    assert isinstance(session.exchange, DirectExchange)
    assert session.exchange is session.exchange
    unrouted = TenantSession.of(mixed, connect(_exchange({})), sink=sink, now=NOW, run_id=1)
    with pytest.raises(NeedsHuman, match="do not name one route"):
        _ = unrouted.exchange


# -- the direct route -------------------------------------------------------------------------


def test_a_refused_listing_or_write_means_the_role_is_not_effective_yet(connect: Any) -> None:
    refused = _exchange({"Get-Mailbox": _refused(), "Set-Mailbox": _refused()})

    async def listing() -> None:
        async with connect(refused) as connections:
            await connections.exchange_adapter(TENANT, "direct").shared_mailboxes()

    async def write() -> None:
        async with connect(refused) as connections:
            adapter = connections.exchange_adapter(TENANT, "direct")
            await adapter.update_shared_mailbox("info@contoso.com", {"displayName": "Info"})

    for scenario in (listing, write):
        with pytest.raises(PropagationPending) as raised:
            run(scenario())
        assert raised.value.status == 403 and raised.value.service == "exchange"
        assert "not effective" in raised.value.message


def test_a_refused_read_of_one_mailbox_is_a_failed_read_not_propagation(connect: Any) -> None:
    handler = _exchange(
        {
            "Get-MailboxPermission": _refused(),
            "Get-RecipientPermission": [
                {"Trustee": "alice", "AccessRights": ["SendAs"], "AccessControlType": "Allow"},
                {"Trustee": "bob@contoso.com", "AccessRights": ["SendAs"], "IsInherited": True},
            ],
        }
    )

    async def scenario() -> Any:
        async with connect(handler) as connections:
            adapter = connections.exchange_adapter(TENANT, "direct")
            listed = Recipient("m1", "Info", "Info", "info@contoso.com", send_on_behalf=("Eve",))
            return await adapter.holders(listed, frozenset(MailboxRight))

    found = run(scenario())
    failed = found[MailboxRight.FULL_ACCESS]
    assert failed.what == "FullAccess on info@contoso.com"
    assert isinstance(failed.error, PermissionDenied)
    assert found[MailboxRight.SEND_AS] == {"alice"}
    assert found[MailboxRight.SEND_ON_BEHALF] == {"Eve"}


def test_a_direct_write_that_does_not_read_back_is_propagation_pending(connect: Any) -> None:
    handler = _exchange(
        {"Add-RecipientPermission": [], "Get-RecipientPermission": []}  # accepted, not shown
    )

    async def scenario() -> None:
        async with connect(handler) as connections:
            adapter = connections.exchange_adapter(TENANT, "direct")
            await adapter.grant("info@contoso.com", MailboxRight.SEND_AS, "alice@contoso.com")

    with pytest.raises(PropagationPending, match=r"SendAs change for alice@contoso\.com"):
        run(scenario())


def test_a_direct_grant_is_recognised_by_the_holders_local_part(connect: Any) -> None:
    handler = _exchange(
        {
            "Add-MailboxPermission": [],
            "Get-MailboxPermission": [{"User": "ALICE", "AccessRights": ["FullAccess"]}],
        }
    )

    async def scenario() -> None:
        async with connect(handler) as connections:
            adapter = connections.exchange_adapter(TENANT, "direct")
            await adapter.grant("info@contoso.com", MailboxRight.FULL_ACCESS, "alice@contoso.com")

    run(scenario())  # no PropagationPending: Exchange's "ALICE" is alice@contoso.com


# -- the CIPP route ---------------------------------------------------------------------------


def test_what_cipp_cannot_do_needs_a_human(connect: Any) -> None:
    async def scenario() -> None:
        async with connect(_exchange({})) as connections:
            adapter = connections.exchange_adapter(TENANT, "cipp")
            await adapter.update_distribution_group("all@contoso.com", {"displayName": "All"})

    with pytest.raises(
        NeedsHuman, match=r"change distribution group all@contoso\.com: CIPP has no"
    ):
        run(scenario())


def test_cipp_adds_a_member_by_the_ids_it_is_given_or_looks_up(connect: Any) -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.removeprefix("/api/")
        if endpoint == "ListGroups" and request.url.params.get("members") == "true":
            return httpx.Response(200, json={"members": [{"id": "u-carol"}]})
        if endpoint == "ListGroups":
            return httpx.Response(200, json=[{"id": "g-all", "mail": "All@contoso.com"}])
        sent.append(body(request))
        return httpx.Response(200, json={"Results": ["Success"]})

    looked_up: list[str] = []

    async def member_id() -> str:
        looked_up.append("carol")
        return "u-carol"

    async def scenario() -> None:
        async with connect(handler) as connections:
            adapter = connections.exchange_adapter(TENANT, "cipp")
            await adapter.add_member(ObjectRef("all@contoso.com"), "carol@contoso.com", member_id)

    run(scenario())
    assert looked_up == ["carol"]
    assert [(s["groupId"], s["AddMember"][0]["value"]) for s in sent] == [("g-all", "u-carol")]
