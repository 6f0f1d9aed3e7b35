"""``posture merge``: fold parts collected elsewhere into one cache, as one snapshot.

The cache's model stays "a snapshot is the whole estate as one poll saw it". A merge
reads the latest snapshot of the newest part of each name, takes each target (a
collector run: ``aws 111122223333``, ``kubernetes prod-eu``...) from the newest part that
holds it, and builds ONE inventory of their union plus, for every target of the previous
merged snapshot without a new part, its previous state from this cache:

* **as it was** ("as-is") while its last part is younger than ``fleet.stale_after_hours``:
  parts arrive on their own schedules (a CronJob per cluster, a shard per account group),
  so a merge that runs between two collections must not flip a healthy target to
  unknown; ``merged_targets.collected_at`` says how old each target's data is;
* **as unknown** ("stale") once older: its run becomes a failed run of its scope, so
  its findings are unknown, never passing, and what it was failing is carried forward
  as unknown by the engine, exactly as for a poll that could not reach it;
* **dropped** when named by ``--forget``, or when it was an account of an organisation
  whose newest account list no longer collects it (closed, moved out, excluded).

The union is judged by the :class:`~postureapp.engine.Engine` (checks and derived facts
cross targets: a role in one account trusted by another) and written through
:meth:`~postureapp.poll.Poller.write`, like a poll, with the parts it read recorded in the
same transaction (``merged_parts``). A part snapshot already merged is never read again:
merging the same parts twice writes nothing. Two merges at once: the second sees the
first's snapshot when it records its own, rolls back and merges again from it.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from postureapp.collectors.gcpause import gc_paused
from postureapp.config import Config
from postureapp.engine import PreviousFailures
from postureapp.errors import InputError, PostureError
from postureapp.fleet.parts import PartRef, fetch, find_parts
from postureapp.model import (
    CollectorRun,
    Resource,
    RunStatus,
    Snapshot,
    SnapshotStatus,
    canonical_json,
    isoformat,
    parse_time,
    utcnow,
)
from postureapp.poll import Poller
from postureapp.store import Store
from postureapp.store import merge as records
from postureapp.store.merge import MergeConflict, PartRecord, TargetRecord

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (collector, target)
ORGANIZATION_COLLECTOR = "aws-organizations"
ORGANIZATION_KINDS = frozenset({"AWSOrganization", "AWSOrganizationalUnit", "AWSAccount"})
ATTEMPTS = 5


@dataclass
class Part:
    """The latest snapshot of one part, read."""

    ref: PartRef
    path: Path
    digest: str
    snapshot: Snapshot

    @property
    def order(self) -> tuple[str, str, str]:
        return (self.snapshot.started_at, self.snapshot.finished_at or "", self.digest)


@dataclass
class MergeResult:
    snapshot_id: int | None = None
    status: SnapshotStatus | None = None
    merged: list[str] = field(default_factory=list)  # part locations
    superseded: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (location, why)
    fresh: list[Key] = field(default_factory=list)
    as_is: list[Key] = field(default_factory=list)
    stale: list[Key] = field(default_factory=list)
    dropped: list[Key] = field(default_factory=list)
    runs: list[CollectorRun] = field(default_factory=list)
    resources: int = 0
    findings: int = 0
    seconds: float = 0.0


def run_key(run: CollectorRun) -> Key:
    return (run.collector, run.target)


def digest_of(snapshot: Snapshot) -> str:
    """A part snapshot's identity, from what it is (not where it was found): the same
    part copied to two places is merged once."""
    body = canonical_json(
        {
            "id": snapshot.id,
            "started": snapshot.started_at,
            "finished": snapshot.finished_at,
            "runs": [
                [r.collector, r.target, r.scope, r.status.value, r.items, r.api_calls, r.seconds]
                for r in snapshot.runs
            ],
        }
    )
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


class Merger:
    """Merges parts into ``store`` with the user's settings (thresholds, retention,
    ``fleet.stale_after_hours``)."""

    def __init__(self, store: Store, config: Config, forget: Sequence[str] = ()) -> None:
        self.store = store
        self.config = config
        self.forget = set(forget)
        self.stale_after = timedelta(hours=config.get("fleet.stale_after_hours"))
        self.poller = Poller(
            store,
            {},
            settings=config.thresholds(),
            retention=config.get("retention.snapshots"),
        )

    def merge(self, sources: Sequence[str]) -> MergeResult:
        """Merge the newest part of each name found at ``sources``.

        Raises:
            InputError: a source holds no part, or no part could be read at all.
        """
        began = time.perf_counter()
        refs = find_parts(list(sources))
        with tempfile.TemporaryDirectory(prefix="posture-merge-") as folder:
            for attempt in range(ATTEMPTS):
                try:
                    result = self._merge_once(refs, Path(folder))
                except MergeConflict as conflict:
                    log.warning("posture: %s; merging again (attempt %d)", conflict, attempt + 2)
                    continue
                result.seconds = round(time.perf_counter() - began, 3)
                return result
        raise PostureError(
            f"the cache {self.store.path} kept changing while merging ({ATTEMPTS} attempts);"
            " is another merge running in a loop? Try again"
        )

    # -- one attempt -------------------------------------------------------------------

    def _merge_once(self, refs: list[PartRef], folder: Path) -> MergeResult:
        result = MergeResult()
        known_locations = records.merged_locations(self.store.db)
        known = records.merged_digests(self.store.db)
        parts: list[Part] = []
        for ref in refs:
            if (ref.location, ref.etag) in known_locations:
                result.already.append(ref.location)
                continue
            try:
                part = _read(ref, folder)
            except (PostureError, OSError) as error:
                result.skipped.append((ref.location, str(error)))
                continue
            if part is None:
                result.skipped.append((ref.location, "the part holds no snapshot"))
            elif part.digest in known or part.digest in {p.digest for p in parts}:
                result.already.append(ref.location)
            else:
                parts.append(part)
        if not parts and not known and result.skipped and not result.already:
            raise InputError(
                "no part could be read: "
                + "; ".join(f"{where}: {why}" for where, why in result.skipped)
            )
        return self._fold(sorted(parts, key=lambda p: p.order), result)

    def _fold(self, parts: list[Part], result: MergeResult) -> MergeResult:
        winners: dict[Key, tuple[Part, CollectorRun]] = {}
        for part in parts:  # oldest first: a newer part's run of a target wins
            for run in part.snapshot.runs:
                winners[run_key(run)] = (part, run)
        won = {id(part) for part, _ in winners.values()}
        runs: list[CollectorRun] = []
        resources: list[Resource] = []
        for part in parts:
            if id(part) not in won:
                continue
            mine = {key for key, (p, _) in winners.items() if p is part}
            part_runs = [run for run in part.snapshot.runs if run_key(run) in mine]
            runs.extend(part_runs)
            with Store(part.path, readonly=True) as source:
                resources.extend(_owned(source, part.snapshot.id, part_runs, mine))
        result.fresh = sorted(winners)
        fleet_accounts = _fleet_accounts(resources, runs)

        latest = self.store.latest()
        targets = [
            TargetRecord(
                run.collector,
                run.target,
                run.provider,
                run.scope,
                run.status.value,
                part.digest,
                part.snapshot.started_at,
            )
            for key, (part, run) in sorted(winners.items())
        ]
        changed = False
        if latest is not None:
            carried_runs, carried_targets, changed = self._carry(
                latest, winners, fleet_accounts, result
            )
            runs.extend(carried_runs)
            targets.extend(carried_targets)
            as_is = {key for key in result.as_is}
            if as_is:
                with_runs = [r for r in latest.runs if run_key(r) in as_is]
                resources.extend(_owned(self.store, latest.id, with_runs, as_is))
        if not parts and not changed:
            return result  # nothing new: nothing written
        if not runs:
            return result
        started_at = isoformat(utcnow()) or ""
        previous = (
            PreviousFailures(latest.id, list(self.store.failing_with_scope(latest.id)))
            if latest is not None
            else None
        )
        # One pause over judging and writing, as a poll has (see collectors/gcpause.py):
        # between the two, a full collection would walk the whole judgement for nothing.
        with gc_paused():
            judgement = self.poller.engine.conclude(started_at, runs, resources, previous)
            written = self._write(judgement, parts, won, latest, targets, started_at)
        result.snapshot_id = written.snapshot_id
        result.status = written.status
        result.runs = judgement.runs
        result.resources = written.resources
        result.findings = written.findings
        result.merged = [p.ref.location for p in parts if id(p) in won]
        result.superseded = [p.ref.location for p in parts if id(p) not in won]
        return result

    def _write(
        self,
        judgement: Any,
        parts: list[Part],
        won: set[int],
        latest: Snapshot | None,
        targets: list[TargetRecord],
        started_at: str,
    ) -> Any:
        part_records = [
            PartRecord(
                digest=part.digest,
                location=part.ref.location,
                etag=part.ref.etag,
                part_snapshot=part.snapshot.id,
                started_at=part.snapshot.started_at,
                finished_at=part.snapshot.finished_at,
                targets=[f"{r.collector}:{r.target}" for r in part.snapshot.runs],
                outcome="merged" if id(part) in won else "superseded",
            )
            for part in parts
        ]
        base_id = latest.id if latest is not None else None

        def within(conn: Any, snapshot_id: int) -> None:
            records.record(conn, snapshot_id, base_id, part_records, targets, started_at)

        return self.poller.write(judgement, within=within)

    def _carry(
        self,
        latest: Snapshot,
        winners: dict[Key, Any],
        fleet_accounts: set[str] | None,
        result: MergeResult,
    ) -> tuple[list[CollectorRun], list[TargetRecord], bool]:
        """The previous merged snapshot's targets without a new part: as they were, as
        unknown, or dropped (see the module docstring). ``changed``: whether any of them
        moved to another state than the previous merge gave it."""
        sources = records.merged_targets(self.store.db, latest.id)
        now = utcnow()
        runs: list[CollectorRun] = []
        targets: list[TargetRecord] = []
        changed = False
        for run in latest.runs:
            key = run_key(run)
            if key in winners:
                continue
            if run.target in self.forget or f"{run.collector}:{run.target}" in self.forget:
                result.dropped.append(key)
                changed = True
                continue
            if (
                fleet_accounts is not None
                and run.collector == "aws"
                and run.target.isdigit()
                and len(run.target) == 12
                and run.target not in fleet_accounts
            ):
                result.dropped.append(key)
                changed = True
                continue
            source = sources.get(key, {})
            collected_at = source.get("collected_at") or latest.started_at
            moment = parse_time(collected_at)
            stale = source.get("carried") == "stale" or (
                moment is not None and now - moment > self.stale_after
            )
            if stale:
                changed |= source.get("carried") != "stale"
                hours = self.config.get("fleet.stale_after_hours")
                runs.append(
                    CollectorRun(
                        collector=run.collector,
                        target=run.target,
                        status=RunStatus.FAILED,
                        scope=run.scope,
                        error=f"no new part since {collected_at} (fleet.stale_after_hours ="
                        f" {hours}): judged unknown",
                        provider=run.provider,
                    )
                )
                result.stale.append(key)
            else:
                runs.append(run)
                result.as_is.append(key)
            carried = "stale" if stale else "as-is"
            targets.append(
                TargetRecord(
                    run.collector,
                    run.target,
                    run.provider,
                    run.scope,
                    runs[-1].status.value,
                    source.get("part", ""),
                    collected_at,
                    carried,
                )
            )
        return runs, targets, changed


def _read(ref: PartRef, folder: Path) -> Part | None:
    path = fetch(ref, folder)
    with Store(path, readonly=True) as source:
        snapshot = source.latest()
    if snapshot is None:
        return None
    for run in snapshot.runs:
        run.provider = run.provider or run.collector
    return Part(ref=ref, path=path, digest=digest_of(snapshot), snapshot=snapshot)


def _owned(
    store: Store, snapshot_id: int, runs: list[CollectorRun], keys: Iterable[Key]
) -> list[Resource]:
    """The resources of ``snapshot_id`` that belong to one of ``runs`` (a resource
    belongs to the run of its provider and scope: its cluster, or its account for AWS;
    the organisation's own kinds to the organisation's run)."""
    wanted = set(keys)
    by_scope: dict[tuple[str, str], list[CollectorRun]] = {}
    for run in runs:
        if run.scope and run_key(run) in wanted:
            by_scope.setdefault((run.provider or run.collector, run.scope), []).append(run)
    found: list[Resource] = []
    for row in store.resources(snapshot_id):
        provider, scope = row["provider"], row["scope"]
        candidates = by_scope.get((provider, scope))
        if candidates is None and provider == "aws":
            candidates = by_scope.get((provider, scope.split("/")[0]))
        if not candidates:
            continue
        # The management account's scope holds the organisation's kinds (its discovery
        # run's) and the account's own (its collection's): each goes with its run.
        organisation = row["kind"] in ORGANIZATION_KINDS
        if not any((c.collector == ORGANIZATION_COLLECTOR) is organisation for c in candidates):
            continue
        found.append(
            Resource(
                uid=row["uid"],
                provider=provider,
                scope=scope,
                kind=row["kind"],
                name=row["name"],
                namespace=row["namespace"] or "",
                attrs=row["attrs"],
                created_at=row["created_at"],
            )
        )
    return found


def _fleet_accounts(resources: list[Resource], runs: list[CollectorRun]) -> set[str] | None:
    """The accounts the newest organisation listing collects, when a part brought one."""
    if not any(
        r.collector == ORGANIZATION_COLLECTOR and r.status is not RunStatus.FAILED for r in runs
    ):
        return None
    return {
        str(r.attrs.get("account_id"))
        for r in resources
        if r.kind == "AWSAccount" and r.attrs.get("collected")
    }
