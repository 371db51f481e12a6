"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`): open a
page, collect its console errors and uncaught exceptions, take a full-page screenshot.

No browser-automation dependency: the protocol is JSON messages separated by NUL bytes on file
descriptors 3 (to the browser) and 4 (from it). Debian's package is `chromium`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def find_chromium() -> str | None:
    """The Chromium executable, or None when not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    size: tuple[int, int] = (0, 0)


class _Pipe:
    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self.process, self.to_browser, self.from_browser = process, to_browser, from_browser
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self.next_id += 1
        message: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for reply in self._read(deadline):
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.events.extend(self._read(deadline))

    def _read(self, deadline: float) -> list[dict]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Chromium did not answer in time")
        ready, _, _ = select.select([self.from_browser], [], [], remaining)
        if not ready:
            raise TimeoutError("Chromium did not answer in time")
        chunk = os.read(self.from_browser, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the pipe")
        self.buffer += chunk
        *messages, self.buffer = self.buffer.split(b"\0")
        return [json.loads(m) for m in messages if m]


def open_page(url: str, width: int = 800, settle_seconds: float = 1.0, timeout: float = 60) -> PageResult:
    """Load `url` in headless Chromium; return console errors, exceptions and a full-page PNG."""
    executable = find_chromium()
    if executable is None:
        raise FileNotFoundError("chromium not installed")
    browser_in, to_browser = os.pipe()
    from_browser, browser_out = os.pipe()
    # Move the child's ends above 4 so that placing them at 3 and 4 cannot clobber each other.
    high_in = fcntl.fcntl(browser_in, fcntl.F_DUPFD, 10)
    high_out = fcntl.fcntl(browser_out, fcntl.F_DUPFD, 10)

    def child_fds() -> None:
        os.dup2(high_in, 3)
        os.dup2(high_out, 4)

    profile = tempfile.mkdtemp(prefix="teacheralloc-chromium-")
    process = subprocess.Popen(
        [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--no-first-run", "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=child_fds, pass_fds=(3, 4, high_in, high_out),
    )
    for fd in (browser_in, browser_out, high_in, high_out):
        os.close(fd)
    pipe = _Pipe(process, to_browser, from_browser)
    result = PageResult()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        pipe.send("Page.navigate", {"url": url}, session=session)
        pipe.wait_for("Page.loadEventFired", timeout=timeout)
        time.sleep(settle_seconds)
        metrics = pipe.send("Page.getLayoutMetrics", session=session)
        content = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(min(content["height"], 16000))
        result.size = (width, height)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session,
                         timeout=timeout)
        result.screenshot = base64.b64decode(shot["data"])
        with_errors = pipe.events
        for event in with_errors:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                result.errors.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                result.errors.append(f"console.{params['type']}: {text}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                result.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        with contextlib.suppress(RuntimeError, TimeoutError):
            pipe.send("Browser.close", timeout=5)
    finally:
        os.close(to_browser)
        os.close(from_browser)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return result


def save(result: PageResult, path: Path) -> Path:
    path.write_bytes(result.screenshot)
    return path
