"""Headless Chromium driven over the DevTools protocol, for the report's browser test.

Chromium is started with its own throw-away profile and no network services; it prints the
DevTools websocket's address on stderr, and one page session is driven over it (``websockets``'
synchronous client): navigate, wait for the load, collect every console message, exception and
log entry, take a screenshot of the whole page, print it to PDF. Nothing here sleeps: every
wait is for a message, with a deadline.
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--remote-debugging-port=0",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
DEADLINE = 60.0


class BrowserError(Exception):
    pass


@dataclass
class Console:
    """What a page said: console calls, uncaught exceptions, and the browser's log entries
    (failed loads, Content-Security-Policy violations), as ``level: text``."""

    entries: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [e for e in self.entries if e.startswith(("error:", "exception:"))]


class Page:
    """One tab, over a flattened DevTools session."""

    def __init__(self, socket: ClientConnection, session: str | None) -> None:
        self.socket = socket
        self.session = session
        self.ids = itertools.count(1000)
        self.console = Console()
        self._events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        end = time.monotonic() + DEADLINE
        while True:
            answer = self._receive(end)
            if answer.get("id") == number:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def wait_for(self, event: str, **params: Any) -> dict[str, Any]:
        """The next ``event`` whose parameters include ``params``."""

        def wanted(message: dict[str, Any]) -> bool:
            given = message.get("params", {})
            return message.get("method") == event and all(
                given.get(k) == v for k, v in params.items()
            )

        end = time.monotonic() + DEADLINE
        for seen in self._events:
            if wanted(seen):
                self._events.remove(seen)
                return seen
        while True:
            message = self._receive(end)
            if wanted(message):
                self._events.remove(message)
                return message

    def _receive(self, end: float) -> dict[str, Any]:
        left = end - time.monotonic()
        if left <= 0:
            raise BrowserError("no answer from Chromium in time")
        message: dict[str, Any] = json.loads(self.socket.recv(timeout=left))
        if "method" in message:
            self._note(message)
            self._events.append(message)
        return message

    def _note(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        match message["method"]:
            case "Runtime.consoleAPICalled":
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]
                )
                level = "error" if params["type"] in ("error", "assert") else params["type"]
                self.console.entries.append(f"{level}: {text}")
            case "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.console.entries.append(f"exception: {details.get('text')}")
            case "Log.entryAdded":
                entry = params["entry"]
                self.console.entries.append(
                    f"{entry['level']}: {entry.get('text')} {entry.get('url', '')}".rstrip()
                )

    def open(self, url: str) -> None:
        """Navigate and wait until the page and everything it loads have loaded."""
        loader = self.call("Page.navigate", url=url)["loaderId"]
        self.wait_for("Page.lifecycleEvent", name="load", loaderId=loader)
        self.call("DOM.getDocument", depth=-1)  # a round trip: events of the load are in

    def count(self, selector: str) -> int:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        return len(self.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"])

    def screenshot(self, path: Path) -> None:
        """The whole page, not only the window, as PNG."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def pdf(self) -> bytes:
        return base64.b64decode(self.call("Page.printToPDF", preferCSSPageSize=True)["data"])


@contextmanager
def chromium(profile: Path, *, javascript: bool = False) -> Iterator[Page]:
    """A headless Chromium with one page, scripts off unless asked; stopped on the way out."""
    process = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    reader = threading.Thread(target=_pump, args=(process.stderr, lines), daemon=True)
    reader.start()
    try:
        url = _devtools_url(lines, process)
        with connect(url, max_size=None, open_timeout=DEADLINE) as socket:
            page = _page(socket)
            page.call("Page.enable")
            page.call("Page.setLifecycleEventsEnabled", enabled=True)
            page.call("Runtime.enable")
            page.call("Log.enable")
            page.call("Emulation.setScriptExecutionDisabled", value=not javascript)
            page.call(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=DEADLINE)  # it ends at the pipe's end, once Chromium is gone
        process.stderr.close()


def _pump(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _devtools_url(lines: queue.Queue[str], process: subprocess.Popen[str]) -> str:
    end = time.monotonic() + DEADLINE
    seen = []
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=max(end - time.monotonic(), 0.01))
        except queue.Empty:
            break
        seen.append(line)
        found = _LISTENING.search(line)
        if found:
            return found[1]
        if process.poll() is not None and lines.empty():
            break
    raise BrowserError("Chromium did not start:\n" + "".join(seen[-20:]))


def _page(socket: ClientConnection) -> Page:
    """A new tab, attached with a flattened session (commands carry its sessionId)."""
    browser = Page(socket, session=None)
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    return Page(socket, str(session))
