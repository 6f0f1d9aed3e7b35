"""One poll cycle: collect from every target at once, then judge what was collected.

The engine does no I/O of its own beyond the collectors it runs: :mod:`postureapp.poll`
hands it what the previous snapshot was failing and writes what it returns. It
guarantees the rules that make the cache trustworthy on call:

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
from typing import Any

from postureapp.checks.registry import REGISTRY, CheckMeta, Registry
from postureapp.collectors.base import (
    Collector,
    CollectResult,
    abandon_signal,
    needs_inventory,
)
from postureapp.collectors.gcpause import gc_paused
from postureapp.graph import derived_facts
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
from postureapp.rootcause import DERIVED_NAME, finding_facts, root_causes

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, Target, CollectorRun | None], None]


@dataclass
class Judgement:
    """Everything one poll saw and concluded, ready to be written as one snapshot."""

    started_at: str
    finished_at: str
    status: SnapshotStatus
    runs: list[CollectorRun]
    resources: list[Resource]
    findings: list[Finding]
    # Facts derived once from the inventory with the user's settings (the identity
    # graph, its attack paths, exposure): stored with the snapshot, never rebuilt.
    derived: dict[str, Any] = field(default_factory=dict)


def scope_uid(provider: str, scope: str) -> str:
    """The uid findings about a whole scope hang on: the cluster's synthetic ``Cluster``
    resource, or ``aws://<account>/<region>``."""
    if provider == "kubernetes":
        return k8s_uid(scope, "Cluster", scope)
    return f"{provider}://{scope}"


class Engine:
    """Runs collectors and checks; writes nothing (see :class:`postureapp.poll.Poller`).

    Args:
        collectors: collector instances by provider name ("kubernetes", "aws"...); a
            target is handed to the collector of its provider.
        registry: the checks to run (the shipped catalog by default).
        settings: thresholds passed to checks (see ``Config.thresholds``).
        workers: collector x target runs at once.
        timeout: seconds after which a run is abandoned and recorded as failed.
    """

    def __init__(
        self,
        collectors: dict[str, Collector],
        *,
        registry: Registry = REGISTRY,
        settings: dict | None = None,
        workers: int = 8,
        timeout: float = 600.0,
    ) -> None:
        self.collectors = collectors
        self.registry = registry
        self.settings = settings or {}
        self.workers = workers
        self.timeout = timeout

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
        first = self._run_all([targets[i] for i in primary], progress)
        outcomes = dict(zip(primary, first[: len(primary)], strict=True))
        discovered = first[len(primary) :]  # after the given targets, in the order found
        if dependent:
            seen = [*outcomes.values(), *discovered]
            inventory = Inventory(
                resources=[r for o in seen for r in o.resources],
                runs=[o.run for o in seen],
                settings=self.settings,
                collector_providers={c.name: p for p, c in self.collectors.items()},
            )
            late = self._run_all([targets[i] for i in dependent], progress, inventory)
            outcomes.update(zip(dependent, late[: len(dependent)], strict=True))
            discovered.extend(late[len(dependent) :])
        return [outcomes[index] for index in range(len(targets))] + discovered

    def _is_dependent(self, target: Target) -> bool:
        return bool(getattr(self.collectors.get(target.provider), "needs_inventory", False))

    def _run_all(
        self,
        targets: Sequence[Target],
        progress: ProgressCallback | None,
        inventory: Inventory | None = None,
    ) -> list[CollectResult]:
        """Runs happen in daemon threads (and collectors pool their requests on daemon
        threads, see ``postureapp.collectors.pool``) so that a collector stuck past its
        timeout cannot keep the process alive: the poll ends when it says it timed out.
        The abandoned run is told so (``abandon_signal``) and stops starting requests;
        its late result is discarded, never written. Targets a run discovers (an
        organisation's accounts) start as soon as it ends, queued on the same slots, and
        their results follow the given targets' in the list returned."""
        targets = list(targets)
        results: queue.Queue[tuple[int, CollectResult]] = queue.Queue()
        slots = threading.Semaphore(self.workers)
        outcomes: dict[int, CollectResult] = {}
        started: dict[int, float] = {}
        signals: dict[int, threading.Event] = {}

        def run(index: int, target: Target) -> None:
            with slots:
                signals[index] = abandon_signal()
                started[index] = time.monotonic()
                if progress:
                    progress("started", target, None)
                result = self._collect_one(target, inventory)
                if not signals[index].is_set():
                    results.put((index, result))

        def start(index: int, target: Target) -> None:
            threading.Thread(
                target=run, args=(index, target), name=f"collect-{target.label}", daemon=True
            ).start()

        for index, target in enumerate(targets):
            start(index, target)

        while len(outcomes) < len(targets):
            try:
                index, result = results.get(timeout=0.2)
            except queue.Empty:
                now = time.monotonic()
                for index, began in list(started.items()):
                    if index not in outcomes and now - began > self.timeout:
                        signals[index].set()
                        outcomes[index] = self._timed_out(targets[index], now - began)
                        if progress:
                            progress("finished", targets[index], outcomes[index].run)
                continue
            if index in outcomes:  # finished after being abandoned
                continue
            outcomes[index] = result
            for found in result.discovered:  # announced first: the total grows
                targets.append(found)
                if progress:
                    progress("discovered", found, None)
                start(len(targets) - 1, found)
            if progress:
                progress("finished", targets[index], result.run)
        return [outcomes[index] for index in range(len(targets))]

    def _collect_one(self, target: Target, inventory: Inventory | None = None) -> CollectResult:
        collector = self.collectors.get(target.provider)
        if collector is None:
            return _failed(target, f"no collector for provider {target.provider!r}")
        began = time.perf_counter()
        try:
            if needs_inventory(collector):
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
        return self.judge_inventory(self.inventory(resources, runs))

    def inventory(self, resources: list[Resource], runs: list[CollectorRun]) -> Inventory:
        """What the checks of one poll read, with the user's settings."""
        return Inventory(
            resources=resources,
            runs=runs,
            settings=self.settings,
            collector_providers={c.name: p for p, c in self.collectors.items()},
        )

    def judge_inventory(self, inventory: Inventory) -> list[Finding]:
        providers = {self._provider_of(run) for run in inventory.runs}
        providers |= {r.provider for r in inventory.resources}
        findings: list[Finding] = []
        for meta in self.registry.checks.values():
            if meta.provider in providers or meta.provider not in PLANES:
                findings.extend(self._run_check(meta, inventory, inventory.runs))
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
        self, findings: list[Finding], runs: list[CollectorRun], previous: PreviousFailures
    ) -> list[Finding]:
        """Findings failing in the last snapshot and missing now, where this poll could not
        fully see what their check reads, come back as unknown rather than silently
        resolving. A check that reads one plane judges a scope; a cross-plane check (the
        attack paths, the cross-plane controls) reads every plane, so any gap in any plane
        this poll read keeps its failures."""
        inventory = Inventory(
            resources=[],
            runs=runs,
            collector_providers={c.name: p for p, c in self.collectors.items()},
        )
        blind = inventory.blind_providers()
        present = {finding.fingerprint for finding in findings}
        catalog = {meta.id: meta.provider for meta in self.registry.checks.values()}
        carried = []
        for row in previous.failing:
            if row["fingerprint"] in present:
                continue
            provider = row["provider"] or catalog.get(row["check_id"], "")
            reason = self._gap_for(inventory, blind, provider, row["scope"], catalog, row)
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
                    f"{previous.snapshot_id}: {row['detail']}",
                    evidence=row["evidence"],
                )
            )
        return carried

    @staticmethod
    def _gap_for(
        inventory: Inventory,
        blind: dict[str, str],
        provider: str,
        scope: str | None,
        catalog: dict[str, str],
        row: dict,
    ) -> str | None:
        check_provider = catalog.get(row["check_id"], provider)
        if check_provider not in PLANES:  # cross-plane: every plane is an input
            for plane in PLANES:
                if plane in blind:
                    return blind[plane]
                for candidate in sorted(inventory.scopes(plane)):
                    gap = inventory.gaps(plane, candidate)
                    if gap:
                        return gap
            return None
        if provider in blind:
            return blind[provider]
        if scope is not None:
            return inventory.gaps(provider, scope)
        # A finding on a whole scope: gone blind anywhere counts.
        return next((inventory.gaps(provider, s) for s in inventory.scopes(provider)), None)

    # -- the cycle -------------------------------------------------------------------

    def run(
        self,
        targets: Sequence[Target],
        previous: PreviousFailures | None = None,
        progress: ProgressCallback | None = None,
    ) -> Judgement:
        """Collect and judge one poll; ``previous`` is what the last snapshot was failing
        (for the carry-forward of what this poll could not see)."""
        if not targets:
            raise ValueError("no targets to poll")
        started_at = isoformat(utcnow()) or ""
        # The collected estate stays alive until it is judged: resuming the cyclic
        # collector between the two would walk all of it (see postureapp.collectors.gcpause).
        with gc_paused():
            outcomes = self.collect(targets, progress)
            runs = [outcome.run for outcome in outcomes]
            resources = [resource for outcome in outcomes for resource in outcome.resources]
            del outcomes
            return self.conclude(started_at, runs, resources, previous)

    def conclude(
        self,
        started_at: str,
        runs: list[CollectorRun],
        resources: list[Resource],
        previous: PreviousFailures | None = None,
    ) -> Judgement:
        """Judge what was collected, however it was (this poll's collectors, or parts
        collected elsewhere and merged): findings, derived facts, the snapshot's status
        and the carry-forward of what could not be seen."""
        # Checks build indexes, the identity graph and ~100,000 findings over an estate
        # that is already one large heap: with the cyclic collector on, its full
        # collections cost 2 s of the 4 s of judging on the benchmark cluster, for
        # data that reference counting frees (see postureapp.collectors.gcpause).
        with gc_paused():
            inventory = self.inventory(resources, runs)
            findings = self.judge_inventory(inventory)
            derived = derived_facts(inventory)
            status = snapshot_status(runs)
            if status is not SnapshotStatus.COMPLETE and previous is not None:
                findings.extend(self.carry_forward(findings, runs, previous))
            # After the carry-forward: a finding lost sight of is unknown for a reason too.
            derived[DERIVED_NAME] = root_causes(
                finding_facts(f) for f in findings if f.status is not Status.PASS
            )
            # The checks' shared indexes and graph point back at the inventory: drop them
            # so reference counting frees that heap now, not a collection after the write.
            inventory.release()
            del inventory
        return Judgement(
            started_at=started_at,
            finished_at=isoformat(utcnow()) or "",
            status=status,
            runs=runs,
            resources=resources,
            findings=findings,
            derived=derived,
        )


@dataclass
class PreviousFailures:
    """What the last snapshot was failing, each row with the provider and scope of its
    resource (None for a finding on a whole scope): ``Store.failing_with_scope``."""

    snapshot_id: int
    failing: list[dict]


# The planes a collector reads; a check of any other provider reads across them.
PLANES = ("kubernetes", "aws", "probe")


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
