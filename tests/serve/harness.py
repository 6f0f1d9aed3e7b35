"""Run ``posture serve`` as users do (the installed console script, a real port) and
drive it from a real headless Chromium (tests/export/chromium.py's DevTools client).

xterm.js paints the terminal on a canvas, so the page's text is read from xterm's own
screen buffer, the state its parser built from the bytes the app sent: a test-only
script, injected before the page's scripts run, keeps a reference to the Terminal that
textual.js creates. The served page itself is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.export.chromium import Page, browser

POSTURE = Path(sys.executable).with_name("posture")
VIEWPORT = (1400, 860)  # ~ 140 x 40 cells at the page's 16 px font

# textual.js runs `this.terminal = new Terminal(...)`: a setter on Object.prototype
# sees that assignment, keeps the Terminal, and removes itself.
CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true });
    if (value && value.buffer && value.buffer.active) {
      window.__postureTerminal = value;
      delete Object.prototype.terminal;
    }
  },
});
"""

SCREEN_TEXT = """(() => {
  const t = window.__postureTerminal;
  if (!t || !document.body.classList.contains("-first-byte")) return null;
  const lines = [];
  for (let y = 0; y < t.rows; y++) {
    const line = t.buffer.active.getLine(t.buffer.active.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()"""

# CDP key events: (key, code, virtual key code, text)
SPECIAL_KEYS = {
    "enter": ("Enter", "Enter", 13, "\r"),
    "escape": ("Escape", "Escape", 27, ""),
    "tab": ("Tab", "Tab", 9, "\t"),
    "down": ("ArrowDown", "ArrowDown", 40, ""),
    "up": ("ArrowUp", "ArrowUp", 38, ""),
}


@dataclass
class Served:
    """A running ``posture serve``: its address, token, and what it logged."""

    process: subprocess.Popen
    url: str  # as printed, with #token=... when the server made the token
    log: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.url.split("#", 1)[0].split()[0]

    @property
    def token(self) -> str:
        return self.url.split("#token=", 1)[1]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1].strip("/"))

    def session_pids(self) -> list[int]:
        """Pids of the session processes the server reported opening, in order."""
        return [
            int(m.group(1))
            for line in list(self.log)
            if (m := re.search(r"session \d+ opened .*\(pid (\d+),", line))
        ]

    def wait_log(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log):
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"server never logged {pattern!r}; log: {self.log}")


@contextlib.contextmanager
def serve(
    db: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[Served]:
    """Start ``posture --db DB serve --port 0 ARGS`` and stop it (SIGTERM) afterwards."""
    process = subprocess.Popen(
        [str(POSTURE), "--db", str(db), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []
    threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, log.append), daemon=True).start()
    try:
        try:
            url = lines.get(timeout=timeout).strip()
        except queue.Empty:
            raise AssertionError(f"posture serve printed no address; stderr: {log}") from None
        yield Served(process, url, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _pump(stream: Any, put: Any) -> None:
    for line in stream:
        put(line.rstrip("\n"))


class Dashboard:
    """One browser tab on the served dashboard."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.send("Page.enable")
        page.send("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_TERMINAL)
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=VIEWPORT[0],
            height=VIEWPORT[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    def evaluate(self, expression: str) -> Any:
        """Evaluate in the page; None while it is between documents (the login reloads)."""
        try:
            return self.page.evaluate(expression)
        except AssertionError as error:
            if "navigated" in str(error) or "context" in str(error).lower():
                return None
            raise

    def wait_for(self, expression: str, timeout: float = 90) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression!r}")
            time.sleep(0.05)

    def open(self, url: str) -> None:
        self.page.send("Page.navigate", url=url)

    def text(self) -> str:
        return self.evaluate(SCREEN_TEXT) or ""

    def wait_text(self, *needles: str, timeout: float = 90, absent: tuple[str, ...] = ()) -> str:
        """Wait until the terminal shows every needle (and none of ``absent``)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(n in text for n in needles) and not any(a in text for a in absent):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the browser never showed {needles} without {absent}; it shows:\n{text}"
                )
            time.sleep(0.1)

    def focus(self) -> None:
        self.wait_for("document.querySelector('.xterm-helper-textarea') !== null")
        self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")

    def press(self, *keys: str) -> None:
        """Real key events, as the browser would get from a keyboard."""
        for key in keys:
            if key in SPECIAL_KEYS:
                name, code, vk, text = SPECIAL_KEYS[key]
                params: dict[str, Any] = {"key": name, "code": code, "windowsVirtualKeyCode": vk}
                if text:
                    params["text"] = text
            else:
                params = {"key": key, "text": key, "unmodifiedText": key}
            self.page.send("Input.dispatchKeyEvent", type="keyDown", **params)
            self.page.send("Input.dispatchKeyEvent", type="keyUp", **params)

    def type(self, text: str) -> None:
        self.press(*text)

    def screenshot(self, path: Path) -> None:
        import base64

        shot = self.page.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.contextmanager
def dashboard() -> Iterator[Dashboard]:
    """A fresh headless Chromium with one tab ready for the served dashboard."""
    with browser() as page:
        yield Dashboard(page)
