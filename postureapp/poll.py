"""A poll against the cache: the engine collects and judges, the store writes.

The one place that reads the previous snapshot, matches waivers, writes a snapshot and
prunes old ones. Used by the CLI, the dashboard's poll worker and the demo, so they all
poll the same way.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

import postureapp.checks  # noqa: F401  (imports the catalog into the registry)
from postureapp.checks.registry import REGISTRY, Registry
from postureapp.collectors.base import Collector
from postureapp.collectors.gcpause import gc_paused
from postureapp.collectors.registry import default_collectors
from postureapp.config import Config
from postureapp.engine import Engine, Judgement, PreviousFailures, ProgressCallback
from postureapp.model import CollectorRun, SnapshotStatus, Status, Target
from postureapp.store import Store
from postureapp.store.writer import WriteStats


@dataclass
class PollResult:
    snapshot_id: int
    status: SnapshotStatus
    runs: list[CollectorRun]
    resources: int
    findings: int
    stats: WriteStats
    seconds: float
    failing: dict[str, int] = field(default_factory=dict)  # severity -> failing count


class Poller:
    """Polls targets into one cache: an :class:`Engine` plus the store it writes.

    Args:
        store: the cache to write to.
        collectors, registry, settings, workers, timeout: as for :class:`Engine`.
        retention: snapshots to keep after each write.
    """

    def __init__(
        self,
        store: Store,
        collectors: dict[str, Collector],
        *,
        registry: Registry = REGISTRY,
        settings: dict | None = None,
        workers: int = 8,
        timeout: float = 600.0,
        retention: int = 50,
    ) -> None:
        self.store = store
        self.retention = retention
        self.engine = Engine(
            collectors, registry=registry, settings=settings, workers=workers, timeout=timeout
        )

    @property
    def registry(self) -> Registry:
        return self.engine.registry

    def poll(
        self, targets: Sequence[Target], progress: ProgressCallback | None = None
    ) -> PollResult:
        """Collect, judge and write one snapshot; return what happened."""
        began = time.perf_counter()
        # One pause from reading the last snapshot's failures to the last row written
        # (see postureapp.collectors.gcpause); the judgement is dropped inside it, so the
        # collector resumes on a small heap.
        with gc_paused():
            last = self.store.latest()
            previous = (
                PreviousFailures(last.id, list(self.store.failing_with_scope(last.id)))
                if last is not None
                else None
            )
            judgement = self.engine.run(targets, previous, progress)
            result = self.write(judgement, began)
            del judgement
        return result

    def write(
        self,
        judgement: Judgement,
        began: float | None = None,
        within: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> PollResult:
        """Write a judgement as one snapshot, with the waivers in force now; ``within``
        runs in the snapshot's transaction (see :meth:`Store.write_snapshot`)."""
        with gc_paused():  # serialising 100,000 rows: see postureapp.collectors.gcpause
            return self._write(judgement, began, within)

    def _write(
        self,
        judgement: Judgement,
        began: float | None,
        within: Callable[[sqlite3.Connection, int], None] | None,
    ) -> PollResult:
        matcher = self.store.waiver_matcher()
        waiver_ids = {}
        for finding in judgement.findings:
            waiver = matcher(finding.fingerprint, finding.check_id, finding.resource_uid)
            if waiver is not None and waiver.id is not None:
                waiver_ids[finding.fingerprint] = waiver.id
        stats = self.store.write_snapshot(
            started_at=judgement.started_at,
            finished_at=judgement.finished_at,
            status=judgement.status,
            runs=judgement.runs,
            resources=judgement.resources,
            findings=judgement.findings,
            waiver_ids=waiver_ids,
            catalog=[meta.to_dict() for meta in self.engine.registry.checks.values()],
            derived=judgement.derived,
            settings=self.engine.settings,
            within=within,
        )
        self.store.prune(self.retention)
        failing: dict[str, int] = {}
        for finding in judgement.findings:
            if finding.status is Status.FAIL and finding.fingerprint not in waiver_ids:
                failing[finding.severity.value] = failing.get(finding.severity.value, 0) + 1
        return PollResult(
            snapshot_id=stats.snapshot_id,
            status=judgement.status,
            runs=judgement.runs,
            resources=len(judgement.resources),
            findings=len(judgement.findings),
            stats=stats,
            seconds=round(time.perf_counter() - (began or time.perf_counter()), 3),
            failing=failing,
        )


def build_poller(store: Store, config: Config, targets: list[Target]) -> Poller:
    providers = sorted({target.provider for target in targets})
    return Poller(
        store,
        default_collectors(providers, max_concurrency=config.get("fleet.max_concurrency")),
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
    poller = build_poller(store, config, targets)
    if progress is None and progress_to is not None and progress_to.isatty():
        progress = _terminal_progress(progress_to, len(targets))
    return poller.poll(targets, progress)


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
        nonlocal done, total
        if event == "discovered":  # an organisation's account, collected in this poll
            total += 1
            return
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
