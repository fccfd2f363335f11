"""The ``tenantctl`` script leaves its heap to the operating system: ``main()`` freezes it out
of the cyclic collector before the process ends, so the interpreter's last collection does not
walk a whole estate (``bench/README.md``, "Stop 25"). In-process callers, who pass ``argv``
and go on running, keep a collector that walks their objects."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from controller.cli import main


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
@pytest.mark.parametrize("args", [["--version"], ["no-such-command"]])
def test_the_script_freezes_the_heap_before_the_process_ends(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["tenantctl", *args])
    with pytest.raises(SystemExit):
        main()
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_a_caller_that_passes_arguments_keeps_its_collector() -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert gc.get_freeze_count() == 0
