"""Graph ``$batch`` without the sending: how items are grouped into envelopes of 20, what an
envelope carries, and how its answer maps back to the items (API-NOTES.md, "$batch").

:meth:`HttpCore.batch <controller.connectors._http.HttpCore.batch>` sends the envelopes and
:func:`controller.connectors._retry.batch_round` decides which items go again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controller.connectors._messages import BatchRequest, ServiceResponse

BATCH_LIMIT = 20


def chunks(requests: Sequence[BatchRequest]) -> list[list[BatchRequest]]:
    """Groups of at most 20 in which every item sits with the items it depends on."""
    index = {item.id: n for n, item in enumerate(requests)}
    parent = list(range(len(requests)))

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n, item in enumerate(requests):
        for dep in item.depends_on:
            if dep in index:
                parent[find(n)] = find(index[dep])
    groups: dict[int, list[BatchRequest]] = {}
    for n, item in enumerate(requests):
        groups.setdefault(find(n), []).append(item)
    result: list[list[BatchRequest]] = []
    current: list[BatchRequest] = []
    for group in groups.values():
        if len(group) > BATCH_LIMIT:
            raise ValueError(f"{len(group)} batch requests depend on each other; at most 20 can")
        if len(current) + len(group) > BATCH_LIMIT:
            result.append(current)
            current = []
        current.extend(group)
    if current:
        result.append(current)
    return result


def envelope(chunk: Sequence[BatchRequest]) -> dict[str, Any]:
    """The ``$batch`` body for ``chunk``. A dependency outside the chunk is left out: it
    was answered in an earlier round."""
    ids = {item.id for item in chunk}
    payload: list[dict[str, Any]] = []
    for item in chunk:
        entry: dict[str, Any] = {"id": item.id, "method": item.method.upper(), "url": item.url}
        if item.body is not None:
            entry["body"] = item.body
            entry["headers"] = {"Content-Type": "application/json", **(item.headers or {})}
        elif item.headers:
            entry["headers"] = dict(item.headers)
        depends = [dep for dep in item.depends_on if dep in ids]
        if depends:
            entry["dependsOn"] = depends
        payload.append(entry)
    return {"requests": payload}


def item_answers(body: Any, chunk: Sequence[BatchRequest]) -> dict[str, ServiceResponse]:
    """The answers in an envelope's ``body`` to items of ``chunk``, by id, whatever their
    order. An item the envelope did not answer is missing."""
    ids = {item.id for item in chunk}
    answers: dict[str, ServiceResponse] = {}
    items = body.get("responses") if isinstance(body, dict) else None
    for answer in items if isinstance(items, list) else []:
        if not isinstance(answer, dict) or str(answer.get("id")) not in ids:
            continue
        raw = answer.get("headers")
        headers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        answers[str(answer["id"])] = ServiceResponse(
            int(answer.get("status", 0)), headers, answer.get("body")
        )
    return answers
