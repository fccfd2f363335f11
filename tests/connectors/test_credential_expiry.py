"""The credential line of ``connect check`` as a pure function of the app registration, the
time and msp.yaml's ``notAfter``: the secret in use is told by its hint and a certificate by
its thumbprint (base64 as Graph writes it, or hex); ok, WARN within 30 days, FAIL once
expired; a federated credential has nothing to expire."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

from controller.connectors import ClientAssertion, ClientCertificate, CredentialExpiry
from controller.connectors import credential_expiry as expiry_of
from controller.errors import PermissionDenied
from tests.connectors.conftest import SECRET, make_settings

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
THUMBPRINT = "52ed9b5038a47b9e2e2190715cc238359d4f8f73"


def registration(**credentials: object) -> dict[str, object]:
    return {"appId": "x", "passwordCredentials": [], "keyCredentials": [], **credentials}


def test_the_secret_in_use_is_told_by_its_hint() -> None:
    settings = make_settings()
    app = registration(
        passwordCredentials=[
            {"hint": SECRET[:3], "endDateTime": "2026-12-10T09:00:00Z"},
            {"hint": "zzz", "endDateTime": "2028-01-01T00:00:00Z"},
        ]
    )
    result = expiry_of(settings, CredentialExpiry(NOW), app)
    assert result.status == "warning"
    assert result.line().startswith(
        "WARN  credential    the client secret expires on 2026-12-10 09:00 UTC, in 14 days "
        "(app registration); fix: create a new client secret"
    )
    later = expiry_of(settings, CredentialExpiry(NOW - dt.timedelta(days=30)), app)
    assert later.status == "ok"
    expired = expiry_of(settings, CredentialExpiry(NOW + dt.timedelta(days=15)), app)
    assert expired.status == "failed"
    assert "expired on 2026-12-10 09:00 UTC" in expired.summary


def test_a_certificate_is_told_by_its_thumbprint() -> None:
    settings = dataclasses.replace(
        make_settings(), credential=ClientCertificate("PEM", thumbprint=THUMBPRINT.upper())
    )
    app = registration(
        keyCredentials=[
            {
                "customKeyIdentifier": base64.b64encode(bytes.fromhex(THUMBPRINT)).decode(),
                "usage": "Verify",
                "endDateTime": "2027-06-01T00:00:00Z",
            },
            {
                "customKeyIdentifier": "0" * 40,
                "usage": "Verify",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        ]
    )
    result = expiry_of(settings, CredentialExpiry(NOW), app)
    assert result.status == "ok"
    assert result.summary.startswith("the certificate expires on 2027-06-01 00:00 UTC")


def test_without_the_registration_notafter_or_a_warning() -> None:
    settings = make_settings()
    denied = PermissionDenied("Insufficient privileges", service="graph", status=403)
    declared = CredentialExpiry(NOW, declared=NOW + dt.timedelta(days=10))
    assert expiry_of(settings, declared, None, denied).summary.endswith(
        "in 10 days (msp.yaml notAfter)"
    )
    unknown = expiry_of(settings, CredentialExpiry(NOW), None, denied)
    assert unknown.status == "warning"
    assert "the app may not read its own registration" in unknown.summary
    assert "spec.partner.credential.notAfter" in (unknown.fix or "")


def test_a_federated_credential_has_nothing_to_expire() -> None:
    settings = dataclasses.replace(make_settings(), credential=ClientAssertion(lambda: "jwt"))
    result = expiry_of(settings, CredentialExpiry(NOW), None)
    assert (result.status, result.summary) == ("ok", "federated credential: no secret to expire")
