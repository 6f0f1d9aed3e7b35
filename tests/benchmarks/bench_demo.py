"""Time from ``posture demo`` to the first painted dashboard, as a user sees it: the
command runs in a real terminal (tmux) and the screen is read until the dashboard's
header shows, then until the first snapshot is on screen. Budget (issue 5): < 10 s.

Needs tmux (``apt-get install tmux``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True, check=False
    ).stdout


def main() -> None:
    if shutil.which("tmux") is None:
        sys.exit("bench_demo needs tmux")
    session = f"posture-bench-{int(time.time() * 1000)}"
    posture = Path(sys.executable).with_name("posture")
    began = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "140",
            "-y",
            "42",
            f"cd {ROOT} && {posture} demo --interval 60",
        ],
        check=True,
    )
    painted = snapshot = None
    try:
        deadline = began + 60
        while time.perf_counter() < deadline and snapshot is None:
            screen = _screen(session)
            now = time.perf_counter() - began
            if painted is None and "posture" in screen and "kube" in screen:
                painted = now
            if "snapshot #1" in screen:
                snapshot = now
            time.sleep(0.05)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=False)
        time.sleep(1.5)
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
    print(
        json.dumps(
            {
                "first_paint_s": round(painted or -1, 2),
                "first_snapshot_on_screen_s": round(snapshot or -1, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
