"""Render every view of the dashboard to SVG in ``screenshots/`` (``make screenshots``).

By default the pictures show the demo estate (``postureapp.demo``): its servers are
started, polled four times through the real collectors and the shipped checks while
its story moves on, and a waiver, a note and an attestation are recorded, as a user
would. Ages and moto's generated ids differ from run to run.

``--fixture`` renders the deterministic fixture cache instead (``tests/tui/estate.py``,
a fixed "now"), so regenerating changes nothing unless the dashboard changed.
``browser.png`` is the same dashboard served by ``posture serve`` and painted by a
headless Chromium (``tests/serve/harness.py``). Never edit the pictures by hand.

Run: ``python -m tests.screenshots [--fixture] [OUTPUT_DIR]``.
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
    "governance-iso": ("governance", [_press("f")]),
    "governance-findings": ("governance", [_press("enter")]),
    "resources": ("resources", [_press("slash"), _type("kind:Service"), _press("enter")]),
    "facts": ("identities", [_press("y")]),
    "context": ("endpoints", [_press("colon"), _type("ctx prod-eu"), _press("enter")]),
    "fleet": ("overview", [_press("colon"), _type("fleet"), _press("enter")]),
    "identities-causes": ("identities", [_press("z")]),
}


DEMO_SHOTS: dict[str, tuple[str, list[Step]]] = {
    **SHOTS,
    "identities-detail": (
        "identities",
        [
            _press("slash"),
            _type("data-pipeline check:aws-iam-admin-policy"),
            _press("enter", "enter"),
        ],
    ),
    "endpoints": ("endpoints", []),
    "facts": (
        "identities",
        [
            _press("slash"),
            _type("data-pipeline check:aws-iam-admin-policy"),
            _press("enter", "y"),
        ],
    ),
    "context": ("endpoints", [_press("colon"), _type("ctx demo-prod"), _press("enter")]),
    "blast": (
        "identities",
        [
            _press("slash"),
            _type("check:path-exposed-irsa-admin"),
            _press("enter", "b"),
        ],
    ),
}


async def _shoot(
    path: Path, registry, now, out: Path, name: str, view: str, steps: list[Step], **options
):
    from postureapp.tui.app import PostureApp

    app = PostureApp(
        path,
        targets=None,
        registry=registry,
        clock=now,
        user="dana",
        initial_view=view,
        **options,
    )
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        for step in steps:
            await step(pilot)
            await _settle(pilot)
        app.save_screenshot(f"{name}.svg", path=str(out))


async def _fixture_shots(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posture.db"
        fixture = build_cache(path)
        for name, (view, steps) in SHOTS.items():
            await _shoot(path, fixture.registry, clock, out, name, view, steps)
            print(out / f"{name}.svg")
        _browser_shot(path, out)


def _browser_shot(path: Path, out: Path) -> None:
    """The same dashboard served by `posture serve` to a headless Chromium, as a PNG
    (the browser paints the terminal on a canvas: there is no SVG of it)."""
    from tests.serve.harness import dashboard, serve

    with serve(path) as served, dashboard() as board:
        board.open(served.url)
        board.wait_text("Posture score", "Top risks")
        board.wait_for("document.fonts.status === 'loaded'")
        board.screenshot(out / "browser.png")
    print(out / "browser.png")


def _demo_cache(path: Path) -> None:
    """Poll the demo estate four times as its story moves on, then triage a little."""
    from postureapp.config import load_config
    from postureapp.demo import DemoEnvironment
    from postureapp.model import Attestation, Waiver, isoformat, utcnow
    from postureapp.poll import run_poll
    from postureapp.store import Store

    empty = path.parent / "config.toml"
    empty.write_text("")
    config = load_config(empty, environ={})
    with DemoEnvironment() as demo, Store(path) as store:
        for poll in range(4):
            if poll:
                demo.evolve()
            run_poll(store, config, demo.targets)
            if poll == 1:
                bastion = next(
                    row
                    for row in store.findings(store.latest().id)
                    if row["check_id"] == "aws-ec2-sg-admin-ports-open" and row["status"] == "fail"
                )
                store.add_waiver(
                    Waiver(
                        fingerprint=bastion["fingerprint"],
                        reason="bastion goes away with the VPN migration",
                        owner="platform-team",
                        ticket="SEC-142",
                        expires_at=isoformat(utcnow().replace(year=utcnow().year + 1)),
                    )
                )
                store.add_attestation(
                    Attestation(
                        "backup-restore-tested",
                        "dana",
                        isoformat(utcnow()),
                        note="restored payments-db to staging, RUNBOOK-12",
                    )
                )


async def _demo_shots(out: Path) -> None:
    from postureapp.checks import REGISTRY
    from postureapp.demo import EXPECTED_UNKNOWN
    from postureapp.model import utcnow

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posture.db"
        _demo_cache(path)
        moment = utcnow()
        for name, (view, steps) in DEMO_SHOTS.items():
            await _shoot(
                path,
                REGISTRY,
                lambda: moment,
                out,
                name,
                view,
                steps,
                expected_unknown=EXPECTED_UNKNOWN,  # as `posture demo` says it
            )
            print(out / f"{name}.svg")
        _browser_shot(path, out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fixture = "--fixture" in args
    args = [arg for arg in args if arg != "--fixture"]
    out = Path(args[0]) if args else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(_fixture_shots(out) if fixture else _demo_shots(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
