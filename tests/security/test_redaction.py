"""The one redaction point: what a log line, an error or a notification may show.

Covers: URLs cut to scheme and host; Bearer and Basic credentials, ``sig=`` and secret-named
keys, JSON Web Tokens and remembered secrets replaced; the logging filter on the root handler
redacting third-party loggers (httpx, httpcore, msal) at every level, arguments, extras and
exception text included; and the webhook sender never showing the URL's userinfo, path or
query, nor what a receiver that answers 500 echoes of the request.
"""

from __future__ import annotations

import io
import logging

import httpx
import pytest

from controller.gitops.notify import send_notification
from controller.redaction import RedactingFilter, redact_text, redact_url, remember

SIGNATURE = "Zm9vYmFyc2lnbmF0dXJlMTIz"
PASSWORD = "hunter2-the-userinfo-password"
WEBHOOK = f"https://ops:{PASSWORD}@relay.example/hooks/Tz9secretpath?sv=1&sig={SIGNATURE}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"POST {WEBHOOK} failed", "POST https://relay.example/*** failed"),
        ("see https://graph.microsoft.com/v1.0/users.", "see https://graph.microsoft.com/***."),
        ("https://h.example:8443", "https://h.example:8443"),
        ("Authorization: Bearer eyJhbGciOi.abc.def", "Authorization: Bearer ***"),
        ("authorization: Basic b3BzOmh1bnRlcjI=", "authorization: Basic ***"),
        ("GET /x?sig=abc123&sv=2020 HTTP/1.1", "GET /x?sig=***&sv=2020 HTTP/1.1"),
        ('{"client_secret": "s3cr3t!", "user": "a"}', '{"client_secret": "***", "user": "a"}'),
        ("password=pa55word&grant_type=x", "password=***&grant_type=x"),
        ("(b'x-api-key', b'k-123456')", "(b'x-api-key', b'***')"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_x-y", "token ***"),
        ("the token acquired for graph", "the token acquired for graph"),
    ],
)
def test_redact_text_hides_urls_and_credentials(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_redact_url_keeps_scheme_host_and_port() -> None:
    assert redact_url(WEBHOOK) == "https://relay.example/***"
    assert redact_url("https://[::1]:8443/a") == "https://[::1]:8443/***"
    assert redact_url("not a url") == "<URL>"


def test_a_remembered_secret_is_replaced_wherever_it_appears() -> None:
    secret = "remembered-7b1f0c93-secret"
    remember(secret)
    assert redact_text(f"the service said: {secret}!") == "the service said: ***!"
    assert redact_text(repr(secret.encode())) == "b'***'"


def test_tokens_are_redacted_by_their_shape_and_not_kept() -> None:
    """A long-running controller gets new tokens every cycle: the remembered set must not
    grow with them, and each is hidden all the same."""
    from controller import redaction

    token = "eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJjb250b3NvIn0.c2lnbmF0dXJlLTE"
    before = len(redaction._known.ordered)
    remember(token)
    assert len(redaction._known.ordered) == before
    assert redact_text(f"echoed: {token}") == "echoed: ***"


def test_short_values_are_not_remembered() -> None:
    remember("abc")
    assert redact_text("abcdef abc") == "abcdef abc"


def test_third_party_loggers_are_redacted_at_debug(root_logging: io.StringIO) -> None:
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 500"', WEBHOOK)
    logging.getLogger("httpcore.http11").debug(
        "receive_response_headers.complete return_value=%r",
        (b"HTTP/1.1", 500, [(b"WWW-Authenticate", b"Basic b3BzOmh1bnRlcjI=")]),
    )
    logging.getLogger("msal.application").debug("client_secret=%s", "msal-secret-value")
    logging.getLogger("tenantctl.test").warning("failed", extra={"url": WEBHOOK})
    try:
        raise RuntimeError(f"cannot post to {WEBHOOK}")
    except RuntimeError:
        logging.getLogger("urllib3").exception("boom")
    output = root_logging.getvalue()
    for secret in (PASSWORD, SIGNATURE, "Tz9secretpath", "b3BzOmh1bnRlcjI=", "msal-secret"):
        assert secret not in output
    assert "HTTP Request: POST https://relay.example/***" in output
    assert "RuntimeError: cannot post to https://relay.example/***" in output


def test_the_filter_redacts_extras() -> None:
    record = logging.makeLogRecord({"msg": "x", "url": WEBHOOK, "status": 500})
    assert RedactingFilter().filter(record)
    assert record.url == "https://relay.example/***"
    assert record.status == 500


def test_an_echoing_webhook_receiver_shows_nothing_of_the_request() -> None:
    """A receiver that answers 500 and echoes the request line and its headers: the warning
    says HTTP 500 and shows neither the Basic credentials of the userinfo, nor the path, nor
    the signature, nor the password."""

    def echo(request: httpx.Request) -> httpx.Response:
        echoed = f"{request.method} {request.url.raw_path.decode()}\n" + "\n".join(
            f"{name}: {value}" for name, value in request.headers.items()
        )
        return httpx.Response(500, text=f"<pre>{echoed}</pre>")

    warning = send_notification(
        WEBHOOK, {"text": "x"}, transport=httpx.MockTransport(echo), sleep=lambda s: None
    )
    assert warning is not None
    assert warning.startswith("notification to https://relay.example/*** not sent: HTTP 500")
    for secret in (PASSWORD, SIGNATURE, "Tz9secretpath", "b3BzOm"):
        assert secret not in warning


def test_a_forked_worker_can_remember_a_secret_while_another_thread_held_the_lock() -> None:
    """An observing worker is forked and remembers every token it gets: the lock of the
    known secrets, held by another thread at the fork, is a new one in the child."""
    import multiprocessing
    import threading

    from controller import redaction

    context = multiprocessing.get_context("fork")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with redaction._known._lock:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        child = context.Process(target=redaction.remember, args=("forked-secret-value",))
        child.start()
        child.join(timeout=20)
        stuck = child.is_alive()
        if stuck:
            child.terminate()
            child.join()
    finally:
        release.set()
        holder.join()
    assert not stuck
    assert child.exitcode == 0
