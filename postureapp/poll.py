"""Wiring a poll from configuration: targets, collectors, engine. Used by the CLI, the
dashboard's poll worker and the demo, so they all poll the same way."""

from __future__ import annotations

from typing import IO

from postureapp.collectors.registry import default_collectors
from postureapp.config import Config
from postureapp.engine import Engine, PollResult, ProgressCallback
from postureapp.model import CollectorRun, Target
from postureapp.store import Store


def build_engine(store: Store, config: Config, targets: list[Target]) -> Engine:
    import postureapp.checks  # noqa: F401  (imports the catalog into the registry)

    providers = sorted({target.provider for target in targets})
    return Engine(
        store,
        default_collectors(providers),
        settings=config.thresholds(),
        workers=config.get("poll.workers"),
        timeout=config.get("poll.collector_timeout_seconds"),
        retention=config.get("retention.snapshots"),
    )


def run_poll(
    store: Store,
    config: Config,
    targets: list[Target],
    progress_to: IO[str] | None = None,
    progress: ProgressCallback | None = None,
) -> PollResult:
    """Poll ``targets`` (from :func:`resolve_targets`, called before the cache is
    opened so that bad input never touches it) and write one snapshot."""
    engine = build_engine(store, config, targets)
    if progress is None and progress_to is not None and progress_to.isatty():
        progress = _terminal_progress(progress_to, len(targets))
    return engine.poll(targets, progress)


def _terminal_progress(out: IO[str], total: int, width: int = 24) -> ProgressCallback:
    """A progress bar on the terminal: one line, redrawn as each target starts and
    finishes, naming the collector and target and how it went."""
    done = 0
    running: list[str] = []

    def draw(message: str) -> None:
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        out.write(f"\r[{bar}] {done}/{total} {message}\x1b[K")
        out.flush()

    def report(event: str, target: Target, run: CollectorRun | None) -> None:
        nonlocal done
        if event == "started":
            running.append(target.label)
            draw(f"collecting {target.label}")
            return
        done += 1
        if target.label in running:
            running.remove(target.label)
        if run is not None:
            draw(f"{target.label}: {run.status.value} ({run.items} items, {run.seconds:.1f}s)")
        if done == total:
            out.write("\n")
            out.flush()

    return report
