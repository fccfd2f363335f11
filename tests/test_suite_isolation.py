"""The suite never writes into the real home folder: the default secret sink of msp.yaml
(``~/.tenantctl/secrets``) resolves under the session's own home."""

from __future__ import annotations

from pathlib import Path

from controller.apply.secret_sink import DirectorySink
from controller.models.msp import SecretSink
from tests.conftest import REAL_HOME, SUITE_HOME


def test_the_default_secret_sink_is_under_the_suites_own_home() -> None:
    default = SecretSink().directory
    sink = DirectorySink(default)
    assert sink.directory.is_relative_to(SUITE_HOME)
    assert not REAL_HOME or not sink.directory.is_relative_to(Path(REAL_HOME) / ".tenantctl")
