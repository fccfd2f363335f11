"""The sandbox's HTTP wire, below the services: how it reads a request's header section (the
malformed ones it refuses, over real HTTPS, and http.server's limits it keeps), the JSON it
writes (UTF-8, the same values json.dumps wrote), the Date header and ISO dates it formats
once a second, the request ids it draws (valid, unique, not shared with a forked child), and
the bearer tokens it checks once per token.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import random
import socket
import ssl
import uuid
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from controller.sandbox import Sandbox, VirtualClock, _tokens
from controller.sandbox._clock import whole_second
from controller.sandbox._http import (
    MAX_FIELD_LINE,
    MAX_FIELD_LINES,
    BadFields,
    _Handler,
    _http_date,
    encode_json,
    read_fields,
)
from controller.sandbox._ids import request_id
from tests.sandbox.conftest import CONTOSO, client, token

# --- the header section, over HTTPS ----------------------------------------------------------


def _exchange(sb: Sandbox, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` to Graph over TLS as it is; the answer's status, headers and body (read
    until the sandbox closes or the Content-Length is in)."""
    host, port = sb.endpoints["graph"].removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(sb.ca_path))
    with (
        socket.create_connection((host, int(port)), timeout=10) as plain,
        context.wrap_socket(plain, server_hostname=host) as tls,
    ):
        tls.sendall(raw)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = tls.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("iso-8859-1").split("\r\n")
        if not lines[0]:
            return 0, {}, b""  # closed without an answer
        if not lines[0].startswith("HTTP/"):
            return -1, {}, received  # an HTTP/0.9 answer: no status line, no headers
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(": ")  # as http.server writes them
            headers[name.lower()] = value
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = tls.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


def _get_users(sb: Sandbox, *fields: bytes) -> bytes:
    bearer = f"Authorization: Bearer {token(sb, CONTOSO)}".encode()
    return b"\r\n".join(
        [b"GET /v1.0/users?$select=id HTTP/1.1", b"Host: graph", bearer, *fields, b"", b""]
    )


def test_a_well_formed_request_in_raw_bytes_is_answered(sb: Sandbox) -> None:
    status, headers, body = _exchange(sb, _get_users(sb, b"Accept: application/json"))
    assert status == 200
    assert json.loads(body)["value"]
    uuid.UUID(headers["request-id"])


@pytest.mark.parametrize(
    "field",
    [
        # RFC 9112 section 2.2: not the grammar; http.server ended the header section here.
        pytest.param(b"NoColonHere", id="a line without a colon"),
        # RFC 9112 section 5.1: white space before the colon MUST be answered 400.
        pytest.param(b"Accept : application/json", id="white space before the colon"),
        pytest.param(b"Acc(ept): x", id="a name that is not a token"),
        pytest.param(b": nameless", id="an empty name"),
        # RFC 9112 section 5.2: obs-fold, refused (http.server kept it, line break and all).
        pytest.param(b"Accept: application/json\r\n  ;q=1", id="obs-fold"),
        pytest.param(b"\tAccept: application/json", id="a line starting with a tab"),
        # RFC 9110 section 5.5: CR, LF and NUL in a value MUST be refused or replaced.
        pytest.param(b"X-Odd: a\rb", id="a bare CR in a value"),
        pytest.param(b"X-Odd: a\x00b", id="NUL in a value"),
        pytest.param(b"X-Odd: a\x1bb", id="a control character in a value"),
        # RFC 9112 section 6.3: a Content-Length that is not one number MUST be answered 400.
        pytest.param(b"Content-Length: abc", id="a Content-Length that is not a number"),
        pytest.param(b"Content-Length: -1", id="a negative Content-Length"),
        pytest.param(b"Content-Length: 0\r\nContent-Length: 2", id="two Content-Lengths"),
    ],
)
def test_a_malformed_header_section_is_refused_with_400_and_the_connection_closed(
    sb: Sandbox, field: bytes
) -> None:
    status, headers, _ = _exchange(sb, _get_users(sb, field))
    assert status == 400
    assert headers["connection"] == "close"
    assert sb.stats()["byService"].get("graph", 0) == 0  # never reached the service


def test_a_header_line_over_65536_bytes_is_431_as_http_server_answered(sb: Sandbox) -> None:
    fits = b"X-Long: " + b"a" * (MAX_FIELD_LINE - len(b"X-Long: \r\n"))
    assert _exchange(sb, _get_users(sb, fits))[0] == 200
    status, headers, body = _exchange(sb, _get_users(sb, fits + b"a"))
    assert status == 431
    assert b"Line too long" in body
    assert headers["connection"] == "close"


def test_more_than_100_header_lines_are_431_as_http_server_answered(sb: Sandbox) -> None:
    # http.client counts the empty line that ends the section: 99 fields at most, and here
    # two of them are Host and Authorization.
    many = [f"X-Field-{i}: {i}".encode() for i in range(MAX_FIELD_LINES - 3)]
    assert _exchange(sb, _get_users(sb, *many))[0] == 200
    status, _, body = _exchange(sb, _get_users(sb, *many, b"X-One-More: 1"))
    assert status == 431
    assert b"Too many headers" in body


def test_the_request_line_is_answered_as_http_server_answered_it(sb: Sandbox) -> None:
    # Before the version is known http.server answers as to HTTP/0.9: its error page alone.
    for line, code in [
        (b"GET /v1.0/users HTTP/2.0", 505),
        (b"GET /v1.0/users HTTQ/1.1", 400),
        (b"POST /v1.0/users", 400),  # HTTP/0.9 knew GET only
    ]:
        status, _, page = _exchange(sb, line + b"\r\n\r\n")
        assert status == -1
        assert f"Error code: {code}".encode() in page, line
    assert _exchange(sb, b"GET /a /b HTTP/1.1\r\n\r\n")[0] == 400
    assert _exchange(sb, b"BREW /v1.0/users HTTP/1.1\r\n\r\n")[0] == 501


def test_values_lose_the_white_space_around_them_and_lines_may_end_in_a_bare_lf(
    sb: Sandbox,
) -> None:
    # RFC 9112 section 5.1: OWS around a value is not part of it (http.server kept the
    # trailing one, and Graph's echo of client-request-id carried it); section 2.2: a bare LF
    # may end a line.
    raw = _get_users(sb, b"client-request-id: \t 0f4e8d1c-5b6a-4c3d-9e2f-1a0b9c8d7e6f \t")
    status, headers, _ = _exchange(sb, raw.replace(b"\r\n", b"\n"))
    assert status == 200
    assert headers["client-request-id"] == "0f4e8d1c-5b6a-4c3d-9e2f-1a0b9c8d7e6f"


def test_read_fields_keeps_names_as_sent_in_order_with_repeats() -> None:
    section = b"Accept: a\r\nX-Twice: 1\r\nx-twice: 2\r\nEmpty:\r\n\r\nnot read"
    stream = io.BytesIO(section)
    assert read_fields(stream.readline) == [
        ("Accept", "a"),
        ("X-Twice", "1"),
        ("x-twice", "2"),
        ("Empty", ""),
    ]
    assert stream.read() == b"not read"


def test_read_fields_says_what_is_wrong() -> None:
    with pytest.raises(BadFields) as refused:
        read_fields(io.BytesIO(b"Fine: 1\r\n folded\r\n\r\n").readline)
    assert refused.value.status == 400
    assert "obs-fold" in refused.value.explain


def test_the_handler_s_headers_are_still_http_server_s_message() -> None:
    handler = _Handler.__new__(_Handler)  # no connection: only the parsed fields
    handler._field_lines = [("Content-Type", "a"), ("X-Twice", "1"), ("x-twice", "2")]
    headers = handler.headers
    assert headers.get("content-type") == "a"
    assert headers.get("X-TWICE") == "1"  # the first, as email.message.Message finds it
    assert headers.get_all("x-twice") == ["1", "2"]
    assert headers.items() == [("Content-Type", "a"), ("X-Twice", "1"), ("x-twice", "2")]
    assert handler.headers is headers


# --- JSON bodies -------------------------------------------------------------------------------


def test_json_outside_ascii_is_written_as_utf8_with_the_same_values(sb: Sandbox) -> None:
    sb.replication_delay = 0
    name = "Zoë Ångström 日本 \u2028"
    with client(sb, CONTOSO) as g:
        created = g.post(
            "/v1.0/users",
            json={
                "accountEnabled": True,
                "displayName": name,
                "mailNickname": "zoe",
                "userPrincipalName": "zoe@contoso.com",
                "passwordProfile": {"password": "Sandbox-Pass-123"},
            },
        )
        assert created.status_code == 201
        answer = g.get(f"/v1.0/users/{created.json()['id']}?$select=displayName")
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert name.encode("utf-8") in answer.content  # json.dumps wrote \u00eb ...
    assert json.loads(answer.content.decode("utf-8"))["displayName"] == name


def test_encode_json_writes_the_values_json_dumps_wrote() -> None:
    value = {
        "s": 'a"b\\c\n\t\x01/é',
        "n": [0, -1, 2**63 - 1, -(2**63), 1.5, 1e-7, 1e300, True, False, None],
        "nested": {"list": [], "object": {}},
        "tuple": (1, 2),
    }
    encoded = encode_json(value)
    assert json.loads(encoded.decode("utf-8")) == json.loads(json.dumps(value))
    assert b" " not in encode_json({"a": [1, 2]})  # compact, as before


def test_encode_json_leaves_to_json_dumps_what_orjson_refuses() -> None:
    for value in ({"big": 2**70}, {1: "int key"}, {"lone": "\ud800"}):
        assert encode_json(value) == json.dumps(value, separators=(",", ":")).encode()


def test_encode_json_still_refuses_what_json_dumps_refused() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    for value in ({1, 2}, Point(1), datetime(2026, 1, 1, tzinfo=UTC)):
        with pytest.raises(TypeError):
            encode_json({"value": value})


# --- dates -------------------------------------------------------------------------------------


def _moments() -> list[float]:
    rng = random.Random(7)
    moments = [rng.uniform(-2e9, 4e9) for _ in range(20_000)]
    for base in (0.0, 1795770000.0, -5.0):
        # Fractions on both sides of the microsecond rounding datetime does.
        for fraction in (0.9999995, 0.99999949, 0.0000005, 0.0000004999, 0.5, 1e-7):
            for moment in (base + fraction, base - fraction):
                moments += [
                    moment,
                    math.nextafter(moment, -math.inf),
                    math.nextafter(moment, math.inf),
                ]
    return moments


def test_iso_dates_are_strftime_s_to_the_second_rounding_included() -> None:
    clock = VirtualClock(frozen=True)
    for moment in _moments():
        expected = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert clock.iso(moment) == expected, moment


def test_the_date_header_is_formatdate_s_text_for_its_second() -> None:
    for moment in _moments()[:2000]:
        assert _http_date(whole_second(moment)) == formatdate(moment, usegmt=True), moment


def test_answers_carry_an_imf_fixdate(sb: Sandbox) -> None:
    _, headers, _ = _exchange(sb, _get_users(sb))
    # RFC 9110 section 5.6.7: IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    parsed = datetime.strptime(headers["date"], "%a, %d %b %Y %H:%M:%S GMT")
    assert parsed.strftime("%a, %d %b %Y %H:%M:%S GMT") == headers["date"]


# --- request ids -------------------------------------------------------------------------------


def test_request_ids_are_version_4_guids_written_as_uuid_writes_them() -> None:
    for _ in range(1000):
        rid = request_id()
        parsed = uuid.UUID(rid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == rid


def test_request_ids_do_not_repeat() -> None:
    drawn = [request_id() for _ in range(50_000)]
    assert len(set(drawn)) == len(drawn)


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then out without running pytest's exit
        os.write(write, request_id().encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child != request_id()  # with the parent's state the child draws the same id


def test_each_item_of_a_batch_has_its_own_request_id(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        answer = g.post(
            "/v1.0/$batch",
            json={"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(8)]},
        )
    ids = [item["headers"]["request-id"] for item in answer.json()["responses"]]
    ids.append(answer.headers["request-id"])
    assert len(set(ids)) == 9


# --- bearer tokens -----------------------------------------------------------------------------


def test_a_token_checked_once_is_still_refused_with_another_key_or_payload() -> None:
    claims = {"aud": "https://graph", "tid": CONTOSO, "roles": ["User.Read.All"], "exp": 1e10}
    good = _tokens.issue("key-1", claims)
    assert _tokens.verify("key-1", good) == claims
    assert _tokens.verify("key-2", good) is None  # the cache is per key and token
    header, _, signature = good.split(".")
    forged = _tokens.issue("key-1", {**claims, "tid": "other"}).split(".")[1]
    assert _tokens.verify("key-1", f"{header}.{forged}.{signature}") is None
    assert _tokens.verify("key-1", "not-a-token") is None
    assert _tokens.peek("not.a-token") is None


def test_claims_handed_out_are_the_caller_s_own_copy() -> None:
    claims = {"aud": "https://graph", "tid": CONTOSO, "exp": 1e10}
    minted = _tokens.issue("key-1", claims)
    first = _tokens.verify("key-1", minted)
    assert first is not None
    first["tid"] = "changed"
    assert _tokens.verify("key-1", minted) == claims
    assert _tokens.peek(minted) == claims
