"""One TLS context per CA bundle and process: every connection of a run (Graph, Exchange,
tokens, MSAL; each worker's too) shares it instead of loading the roots again, and a bundle
file that changes gets a new context."""

from __future__ import annotations

import shutil
from pathlib import Path

import certifi
import pytest

from controller.connectors._http import ssl_context


def test_the_same_bundle_gives_the_same_context_and_a_changed_one_a_new_context(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "ca.pem"
    shutil.copyfile(certifi.where(), bundle)
    first = ssl_context(bundle)
    assert ssl_context(bundle) is first
    assert ssl_context(None) is ssl_context(None)
    assert ssl_context(None) is not first
    # A new bundle with one CA fewer: a different file, read again.
    text = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----\n"
    bundle.write_text(text[text.index(end) + len(end) :], encoding="ascii")
    assert ssl_context(bundle) is not first


def test_a_missing_bundle_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        ssl_context(tmp_path / "absent.pem")
