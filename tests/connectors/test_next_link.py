"""Page links are followed only where they belong: the ``@odata.nextLink`` of an answer is
followed to the first page's origin (scheme, host, port) over https and nowhere else; a link
to another host, to plain http or to another port is a clear error and no request (and so no
bearer token) goes there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from controller.errors import ServiceFault
from tests.connectors.conftest import GRAPH, TENANT, run


@pytest.mark.parametrize(
    "link",
    [
        "https://graph.attacker.example/v1.0/users?$skiptoken=2",
        "http://graph.microsoft.com/v1.0/users?$skiptoken=2",
        "https://graph.microsoft.com:8443/v1.0/users?$skiptoken=2",
        "https://user:pw@graph.microsoft.com.attacker.example/v1.0/users",
    ],
)
def test_a_next_link_to_another_origin_is_refused(connect: Any, link: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": [{"id": "1"}], "@odata.nextLink": link})

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).list_users()

    with pytest.raises(ServiceFault) as raised:
        run(scenario())
    assert len(seen) == 1, "nothing is sent to the foreign link"
    assert seen[0].url.host == "graph.microsoft.com"
    message = str(raised.value)
    assert "follows page links only to the same https origin" in message
    assert "skiptoken" not in message and "pw@" not in message
    assert raised.value.code == "ForeignNextLink"


def test_a_next_link_on_the_same_origin_is_followed(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("$skiptoken") is None:
            link = f"{GRAPH.replace('graph.microsoft.com', 'GRAPH.microsoft.com:443')}/users?$skiptoken=2"
            return httpx.Response(200, json={"value": [{"id": "1"}], "@odata.nextLink": link})
        return httpx.Response(200, json={"value": [{"id": "2"}]})

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).list_users()

    assert [u["id"] for u in run(scenario())] == ["1", "2"]
