"""Issue 16 through the front door: ``posture demo`` runs in a real terminal (tmux), and
the on-call keys arrive as one burst, as a fast typist or a paste sends them. Every
key must land: the view, the filter with its exclusion, the move after it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

POSTURE = Path(sys.executable).with_name("posture")


def _screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-t", session, "-p"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def _wait_for(session: str, predicate, what: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if predicate(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{what} never showed; the screen was:\n{screen}")


@pytest.fixture
def demo_terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("this test drives the dashboard in tmux: install tmux")
    session = f"posture-keys-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {**os.environ, "HOME": str(tmp_path), "POSTURE_CONFIG": str(config)}
    command = f"{POSTURE} demo --interval 5 --no-probe"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "42", command],
        check=True,
        env=env,
    )
    try:
        yield session
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alive = subprocess.run(
                ["tmux", "has-session", "-t", session], capture_output=True, check=False
            )
            if alive.returncode != 0:
                break
            time.sleep(0.2)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def test_on_call_keys_in_one_burst(demo_terminal):
    session = demo_terminal
    _wait_for(session, lambda s: "snapshot #" in s, "the first snapshot")
    # One send-keys call, one write to the terminal: the whole burst at once.
    subprocess.run(
        [
            "tmux",
            "send-keys",
            "-t",
            session,
            ":identities",
            "Enter",
            "/provider:aws -bob",
            "Enter",
            "j",
        ],
        check=True,
    )
    screen = _wait_for(
        session,
        lambda s: "IDENTITIES" in s and "filter provider:aws -bob" in s,
        "the identities view with the whole filter",
    )
    assert "no view" not in screen
    shown = re.search(r"(\d+) of ([\d,]+) findings", screen)
    assert shown and int(shown.group(1)) > 0, screen
    table = screen.split("SEV", 1)[1]
    assert " bob " not in table  # excluded, and the other AWS identities are there
    assert "data-pipeline" in table or "admins" in table
    # the context switch and the resource browser, typed ahead as well
    subprocess.run(
        ["tmux", "send-keys", "-t", session, ":ctx demo-prod", "Enter", ":res", "Enter"],
        check=True,
    )
    screen = _wait_for(
        session,
        lambda s: "RESOURCES" in s and "ctx  demo-prod" in s,
        "the resources of demo-prod",
    )
    assert "123456789012" not in screen.split("KIND", 1)[1]  # only the cluster's
