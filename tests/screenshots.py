"""Render every view of the dashboard to SVG in ``screenshots/`` (``make screenshots``).

The pictures come from a deterministic fixture cache (``tests/tui/estate.py``: two
kube contexts and an AWS account polled three times through the real Engine, with a
waiver, an expired waiver, a note and an attestation) shown with a fixed "now", so
regenerating them changes nothing unless the dashboard changed. Never edit the SVGs
by hand.

Run: ``python -m tests.screenshots [OUTPUT_DIR]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.tui.estate import build_cache, clock

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 40)

Step = Callable[[object], Awaitable[None]]


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _press(*keys: str) -> Step:
    async def run(pilot) -> None:
        await pilot.press(*keys)

    return run


def _type(text: str) -> Step:
    return _press(*("space" if char == " " else char for char in text))


# file name -> (initial view, steps)
SHOTS: dict[str, tuple[str, list[Step]]] = {
    "overview": ("overview", []),
    "identities": ("identities", []),
    "identities-detail": (
        "identities",
        [_press("slash"), _type("check:k8s-sa-token-automount payments"), _press("enter", "enter")],
    ),
    "endpoints": ("endpoints", [_press("W")]),
    "secrets-filter": ("secrets", [_press("slash"), _type("sev:high status:all")]),
    "governance": ("governance", []),
    "changes": ("changes", [_press("3")]),
    "waive": ("endpoints", [_press("w")]),
    "help": ("overview", [_press("question_mark")]),
    "overview-light": ("overview", [_press("t")]),
}


async def _shoot(path: Path, fixture, out: Path, name: str, view: str, steps: list[Step]):
    from postureapp.tui.app import PostureApp

    app = PostureApp(
        path,
        targets=None,
        registry=fixture.registry,
        clock=clock,
        user="dana",
        initial_view=view,
    )
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        for step in steps:
            await step(pilot)
            await _settle(pilot)
        app.save_screenshot(f"{name}.svg", path=str(out))


async def _main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posture.db"
        fixture = build_cache(path)
        for name, (view, steps) in SHOTS.items():
            await _shoot(path, fixture, out, name, view, steps)
            print(out / f"{name}.svg")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else ROOT / "screenshots"
    asyncio.run(_main(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
