"""One poll cycle: collect from every target at once, judge, write one snapshot.

The engine is the only writer of snapshots. It guarantees the rules that make the
cache trustworthy on call:

* dependent collectors (``needs_inventory``: the probe) run after the others and are
  handed their inventory, so they see only what this poll discovered;
* a collector that raises or overruns its timeout becomes a *failed* run record and
  the snapshot is *partial*; the other collectors' results still land;
* a check never sees a scope whose required kinds were not collected: it reports
  *unknown* there instead;
* a finding that was failing and is missing now, in a scope the poll could not fully
  see, is carried forward as *unknown* — lost sight of, never "resolved".
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from postureapp.checks.registry import REGISTRY, CheckMeta, Registry
from postureapp.collectors.base import Collector, CollectResult
from postureapp.inventory import ALL_KINDS, Inventory
from postureapp.model import (
    CollectorRun,
    Finding,
    Resource,
    RunStatus,
    Severity,
    SnapshotStatus,
    Status,
    Target,
    View,
    isoformat,
    k8s_uid,
    utcnow,
)
from postureapp.store import Store
from postureapp.store.writer import WriteStats

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, Target, CollectorRun | None], None]


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


def scope_uid(provider: str, scope: str) -> str:
    """The uid findings about a whole scope hang on: the cluster's synthetic ``Cluster``
    resource, or ``aws://<account>/<region>``."""
    if provider == "kubernetes":
        return k8s_uid(scope, "Cluster", scope)
    return f"{provider}://{scope}"


class Engine:
    """Runs poll cycles against a store.

    Args:
        store: the cache to write to.
        collectors: collector instances by provider name ("kubernetes", "aws"...); a
            target is handed to the collector of its provider.
        registry: the checks to run (the shipped catalog by default).
        settings: thresholds passed to checks (see ``Config.thresholds``).
        workers: collector x target runs at once.
        timeout: seconds after which a run is abandoned and recorded as failed.
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
        self.collectors = collectors
        self.registry = registry
        self.settings = settings or {}
        self.workers = workers
        self.timeout = timeout
        self.retention = retention

    # -- collection ------------------------------------------------------------------

    def collect(
        self, targets: Sequence[Target], progress: ProgressCallback | None = None
    ) -> list[CollectResult]:
        """Run every target's collector concurrently (bounded), never raising.

        Dependent collectors (``needs_inventory``, the probe) run once the others are
        done, given their inventory; both phases keep the timeout and containment.
        """
        dependent = [i for i, t in enumerate(targets) if self._is_dependent(t)]
        primary = [i for i in range(len(targets)) if i not in set(dependent)]
        outcomes = dict(
            zip(primary, self._run_all([targets[i] for i in primary], progress), strict=True)
        )
        if dependent:
            inventory = Inventory(
                resources=[r for o in outcomes.values() for r in o.resources],
                runs=[o.run for o in outcomes.values()],
                settings=self.settings,
                collector_providers={c.name: p for p, c in self.collectors.items()},
            )
            late = self._run_all([targets[i] for i in dependent], progress, inventory)
            outcomes.update(zip(dependent, late, strict=True))
        return [outcomes[index] for index in range(len(targets))]

    def _is_dependent(self, target: Target) -> bool:
        return bool(getattr(self.collectors.get(target.provider), "needs_inventory", False))

    def _run_all(
        self,
        targets: Sequence[Target],
        progress: ProgressCallback | None,
        inventory: Inventory | None = None,
    ) -> list[CollectResult]:
        """Runs happen in daemon threads so that a collector stuck past its timeout cannot
        keep the process alive; its late result is discarded."""
        results: queue.Queue[tuple[int, CollectResult]] = queue.Queue()
        slots = threading.Semaphore(self.workers)
        outcomes: dict[int, CollectResult] = {}
        started: dict[int, float] = {}

        def run(index: int, target: Target) -> None:
            with slots:
                started[index] = time.monotonic()
                if progress:
                    progress("started", target, None)
                results.put((index, self._collect_one(target, inventory)))

        for index, target in enumerate(targets):
            threading.Thread(
                target=run, args=(index, target), name=f"collect-{target.label}", daemon=True
            ).start()

        while len(outcomes) < len(targets):
            try:
                index, result = results.get(timeout=0.2)
            except queue.Empty:
                now = time.monotonic()
                for index, began in list(started.items()):
                    if index not in outcomes and now - began > self.timeout:
                        outcomes[index] = self._timed_out(targets[index], now - began)
                        if progress:
                            progress("finished", targets[index], outcomes[index].run)
                continue
            if index in outcomes:  # finished after being abandoned
                continue
            outcomes[index] = result
            if progress:
                progress("finished", targets[index], result.run)
        return [outcomes[index] for index in range(len(targets))]

    def _collect_one(self, target: Target, inventory: Inventory | None = None) -> CollectResult:
        collector = self.collectors.get(target.provider)
        if collector is None:
            return _failed(target, f"no collector for provider {target.provider!r}")
        began = time.perf_counter()
        try:
            if getattr(collector, "needs_inventory", False):
                if inventory is None:
                    inventory = Inventory(resources=[])
                result = collector.collect(target, inventory)
            else:
                result = collector.collect(target)
        except Exception as error:  # a collector must not raise; if one does, contain it
            log.exception("collector %s raised on %s", target.provider, target.label)
            result = _failed(target, f"{type(error).__name__}: {error}", collector.name)
        result.run.seconds = result.run.seconds or round(time.perf_counter() - began, 3)
        return result

    def _timed_out(self, target: Target, seconds: float) -> CollectResult:
        collector = self.collectors.get(target.provider)
        name = collector.name if collector else target.provider
        result = _failed(target, f"timed out after {seconds:.0f}s", name)
        result.run.seconds = round(seconds, 3)
        return result

    # -- judging ---------------------------------------------------------------------

    def judge(self, resources: list[Resource], runs: list[CollectorRun]) -> list[Finding]:
        """Run every relevant check; unknown where data is missing, error where it raised."""
        providers = {self._provider_of(run) for run in runs} | {r.provider for r in resources}
        inventory = Inventory(
            resources=resources,
            runs=runs,
            settings=self.settings,
            collector_providers={c.name: p for p, c in self.collectors.items()},
        )
        findings: list[Finding] = []
        for meta in self.registry.checks.values():
            if meta.provider in providers or meta.provider not in ("kubernetes", "aws", "probe"):
                findings.extend(self._run_check(meta, inventory, runs))
        return findings

    def _provider_of(self, run: CollectorRun) -> str:
        if run.provider:
            return run.provider
        for provider, collector in self.collectors.items():
            if collector.name == run.collector:
                return provider
        return run.collector

    def _run_check(
        self, meta: CheckMeta, inventory: Inventory, runs: list[CollectorRun]
    ) -> Iterable[Finding]:
        findings: list[Finding] = []
        needed = meta.requires or (ALL_KINDS,)
        excluded = []
        for scope in sorted(inventory.scopes(meta.provider)):
            reason = inventory.why_unknown(meta.provider, scope, needed)
            if reason:
                excluded.append((meta.provider, scope))
                findings.append(_unknown(meta, scope_uid(meta.provider, scope), reason))
        for run in runs:
            if (
                run.status is RunStatus.FAILED
                and not run.scope
                and self._provider_of(run) == meta.provider
            ):
                uid = scope_uid(meta.provider, run.target)
                findings.append(_unknown(meta, uid, f"{run.target} failed: {run.error}"))
        if inventory.blind_providers().get(meta.provider) and not inventory.scopes(meta.provider):
            return findings
        view = inventory.without_scopes(excluded) if excluded else inventory
        try:
            findings.extend(meta.finding(result) for result in meta.function(view))
        except Exception as error:  # a broken check must not sink the poll
            log.exception("check %s raised", meta.id)
            findings.append(
                Finding(
                    check_id=meta.id,
                    resource_uid=f"check://{meta.id}",
                    status=Status.ERROR,
                    severity=meta.severity,
                    view=meta.view,
                    title=meta.title,
                    detail=f"the check raised {type(error).__name__}: {error}",
                    remediation=meta.remediation,
                )
            )
        return findings

    def carry_forward(
        self, findings: list[Finding], runs: list[CollectorRun], resources: list[Resource]
    ) -> list[Finding]:
        """Findings failing in the last snapshot and missing now, in scopes this poll
        could not fully see, come back as unknown rather than silently resolving."""
        previous = self.store.latest()
        if previous is None:
            return []
        inventory = Inventory(
            resources=[],
            runs=runs,
            collector_providers={c.name: p for p, c in self.collectors.items()},
        )
        blind = inventory.blind_providers()
        present = {finding.fingerprint for finding in findings}
        catalog_provider = {meta.id: meta.provider for meta in self.registry.checks.values()}
        carried = []
        for row in self.store.failing_with_scope(previous.id):
            if row["fingerprint"] in present:
                continue
            provider = row["provider"] or catalog_provider.get(row["check_id"], "")
            reason = blind.get(provider)
            if reason is None and row["scope"] is not None:
                reason = inventory.gaps(provider, row["scope"])
            elif reason is None:  # a finding on a whole scope: gone blind anywhere counts
                reason = next(
                    (inventory.gaps(provider, s) for s in inventory.scopes(provider)), None
                )
            if reason is None:
                continue
            carried.append(
                Finding(
                    check_id=row["check_id"],
                    resource_uid=row["resource_uid"],
                    status=Status.UNKNOWN,
                    severity=Severity(row["severity"]),
                    view=View(row["view"]),
                    title=row["title"],
                    detail=f"not re-evaluated ({reason}); it was failing in snapshot "
                    f"{previous.id}: {row['detail']}",
                    evidence=row["evidence"],
                )
            )
        return carried

    # -- the cycle -------------------------------------------------------------------

    def poll(
        self, targets: Sequence[Target], progress: ProgressCallback | None = None
    ) -> PollResult:
        """Collect, judge and write one snapshot; return what happened."""
        if not targets:
            raise ValueError("no targets to poll")
        began = time.perf_counter()
        started_at = isoformat(utcnow())
        outcomes = self.collect(targets, progress)
        runs = [outcome.run for outcome in outcomes]
        resources = [resource for outcome in outcomes for resource in outcome.resources]
        findings = self.judge(resources, runs)
        status = snapshot_status(runs)
        if status is not SnapshotStatus.COMPLETE:
            findings.extend(self.carry_forward(findings, runs, resources))
        matcher = self.store.waiver_matcher()
        waiver_ids = {}
        for finding in findings:
            waiver = matcher(finding.fingerprint, finding.check_id, finding.resource_uid)
            if waiver is not None:
                waiver_ids[finding.fingerprint] = waiver.id
        stats = self.store.write_snapshot(
            started_at=started_at,
            finished_at=isoformat(utcnow()),
            status=status,
            runs=runs,
            resources=resources,
            findings=findings,
            waiver_ids=waiver_ids,
            catalog=[meta.to_dict() for meta in self.registry.checks.values()],
        )
        self.store.prune(self.retention)
        failing: dict[str, int] = {}
        for finding in findings:
            if finding.status is Status.FAIL and finding.fingerprint not in waiver_ids:
                failing[finding.severity.value] = failing.get(finding.severity.value, 0) + 1
        return PollResult(
            snapshot_id=stats.snapshot_id,
            status=status,
            runs=runs,
            resources=len(resources),
            findings=len(findings),
            stats=stats,
            seconds=round(time.perf_counter() - began, 3),
            failing=failing,
        )


def snapshot_status(runs: Sequence[CollectorRun]) -> SnapshotStatus:
    if runs and all(run.status is RunStatus.OK for run in runs):
        return SnapshotStatus.COMPLETE
    if runs and all(run.status is RunStatus.FAILED for run in runs):
        return SnapshotStatus.FAILED
    return SnapshotStatus.PARTIAL


def _failed(target: Target, error: str, collector: str | None = None) -> CollectResult:
    return CollectResult(
        resources=[],
        run=CollectorRun(
            collector=collector or target.provider,
            target=target.name,
            status=RunStatus.FAILED,
            error=error,
        ),
    )


def _unknown(meta: CheckMeta, uid: str, reason: str) -> Finding:
    return Finding(
        check_id=meta.id,
        resource_uid=uid,
        status=Status.UNKNOWN,
        severity=meta.severity,
        view=meta.view,
        title=meta.title,
        detail=f"cannot evaluate: {reason}",
        remediation=meta.remediation,
    )
