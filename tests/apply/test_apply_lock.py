"""One apply at a time per journal: a second one refuses at once with the holder's pid, host
and start time, or waits up to its timeout; a killed holder leaves no stale lock; the lock's
files are private."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from controller.apply.lock import apply_lock, lock_paths
from controller.errors import ApplyLocked


def test_a_second_apply_refuses_with_the_holder(tmp_path: Path) -> None:
    journal = tmp_path / "state" / "journal.sqlite"
    with apply_lock(journal), pytest.raises(ApplyLocked) as refused, apply_lock(journal):
        pass
    message = str(refused.value)
    assert f"pid {os.getpid()} on host {socket.gethostname()}, started 20" in message
    assert str(journal) in message and "--lock-timeout" in message
    with apply_lock(journal):  # released: free again
        pass
    assert not lock_paths(journal)[1].exists()  # the holder's note goes with the lock


def test_a_second_apply_waits_for_the_first(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with apply_lock(journal):
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=first)
    worker.start()
    assert holding.wait(30)
    with pytest.raises(ApplyLocked, match=r"waited 0\.1 s"), apply_lock(journal, timeout=0.1):
        pass
    release.set()
    with apply_lock(journal, timeout=30):
        done.set()
    worker.join()
    assert done.is_set()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from controller.apply.lock import apply_lock
                with apply_lock(Path({str(journal)!r})):
                    print("held", flush=True)
                    time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(ApplyLocked, match=f"pid {holder.pid} "), apply_lock(journal):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with apply_lock(journal):  # the kernel released it with the process
        pass


def test_the_lock_files_are_private(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    lock, note = lock_paths(journal)
    with apply_lock(journal):
        assert stat.S_IMODE(note.stat().st_mode) == 0o600
        assert stat.S_IMODE(lock.stat().st_mode) & 0o077 == 0
