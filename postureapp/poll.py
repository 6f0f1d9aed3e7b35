"""Wiring a poll from configuration: targets, collectors, engine. Used by the CLI, the
dashboard's poll worker and the demo, so they all poll the same way."""

from __future__ import annotations

from typing import IO

from collectors.registry import default_collectors
from postureapp.config import Config
from postureapp.engine import Engine, PollResult, ProgressCallback
from postureapp.model import CollectorRun, Target
from postureapp.store import Store


def build_engine(store: Store, config: Config, targets: list[Target]) -> Engine:
    import checks  # noqa: F401  (imports the catalog into the registry)

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


def _terminal_progress(out: IO[str], total: int) -> ProgressCallback:
    done = 0

    def report(event: str, target: Target, run: CollectorRun | None) -> None:
        nonlocal done
        if event == "finished" and run is not None:
            done += 1
            out.write(
                f"\r[{done}/{total}] {target.label}: {run.status.value} "
                f"({run.items} items, {run.seconds:.1f}s)\x1b[K"
            )
            if done == total:
                out.write("\n")
            out.flush()

    return report
