"""A real terminal for the dashboard: tmux runs a command line, tests read the screen
(``capture-pane``) and type (``send-keys``), as a person at a terminal would.

Each Terminal has its own tmux server (``-S``: a socket in a temporary folder, removed
at the end), started with the environment given, so tests never see or disturb anyone
else's tmux. tmux is required (``apt-get install
tmux``; .ci/run installs it): a missing tmux fails the test rather than skipping it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DONE = "POSTURE-EXITED"


class Terminal:
    """``command`` (a shell line) running in a 120x40 tmux pane. After it ends the
    pane shows ``POSTURE-EXITED <code>``; :meth:`exit_code` waits for that."""

    def __init__(self, command: str, *, cwd: Path, env: dict[str, str], size=(120, 40)):
        if shutil.which("tmux") is None:
            pytest.fail("tmux is required for the dashboard tests: apt-get install -y tmux")
        self.folder = tempfile.mkdtemp(prefix="posture-tmux-")
        self.socket = os.path.join(self.folder, "socket")
        self.command = command
        line = f"cd {shlex.quote(str(cwd))} && {command}; echo {DONE} $?; sleep 600"
        subprocess.run(
            [
                *self._tmux(),
                "new-session",
                "-d",
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                "bash",
                "--norc",
                "-c",
                line,
            ],
            # COLUMNS/LINES (set in pytest-xdist workers) would override the pane's size.
            env={k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
            | {"TERM": "xterm-256color"},
            check=True,
            timeout=30,
        )

    def _tmux(self) -> list[str]:
        return ["tmux", "-S", self.socket, "-f", os.devnull]

    def screen(self) -> str:
        result = subprocess.run(
            [*self._tmux(), "capture-pane", "-p"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        return result.stdout

    def wait_for(self, text: str, timeout: float = 90) -> str:
        """The screen once it shows ``text`` (fails with the last screen otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if DONE in screen or time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.command!r}: waited for {text!r}; the screen shows:\n{screen}"
                )
            time.sleep(0.2)

    def send(self, *keys: str) -> None:
        subprocess.run([*self._tmux(), "send-keys", *keys], check=True, timeout=30)

    def exit_code(self, timeout: float = 60) -> int:
        screen = self.wait_for(DONE, timeout) if DONE not in self.screen() else self.screen()
        line = next(line for line in screen.splitlines() if line.startswith(DONE))
        return int(line.split()[1])

    def close(self) -> None:
        subprocess.run([*self._tmux(), "kill-server"], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
