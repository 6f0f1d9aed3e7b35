"""The fleet: every target of the shown snapshot side by side (``:fleet``).

A *target* is what ``:ctx`` can show: a Kubernetes cluster, or an AWS account with its
account/region scopes folded under it (an account is the unit an organisation hands out,
its IAM is global, and ``--organization`` collects one target per account; ``:ctx
ACCOUNT/REGION`` still shows one region). Each row carries its collector health and the
age of its data, taken from the collector runs (and, in a merged cache, from
``merged_targets.collected_at``, the moment the part was collected, never the merge's).

One scan of the snapshot's findings, grouped in SQL, gives both matrices: targets x views
(open failing findings by severity, unknown counts) and targets x governance controls
(the control rule of :mod:`postureapp.governance`, applied to each target's findings).
Nothing here imports Textual and nothing is recomputed from resources.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postureapp.model import Severity, Snapshot, utcnow

# rank -> name, worst first
SEVERITY_NAMES = {s.rank: s.value for s in sorted(Severity, key=lambda s: -s.rank)}
KIND_ORDER = {"kubernetes cluster": 0, "aws account": 1}
_HEALTH_RANK = {"ok": 0, "partial": 1, "failed": 2}
NOT_APPLICABLE = "n/a"  # a control none of whose checks looks at this kind of target


@dataclass
class FleetRow:
    """One target of the fleet and how its data stands."""

    name: str  # what ``:ctx`` matches: a cluster, an account id, "probe"
    kind: str  # "kubernetes cluster" | "aws account" | "<provider> results"
    provider: str
    label: str = ""  # the account's name in its organisation ("" when unknown)
    health: str = "none"  # ok | partial | failed | none (no collector run named it)
    errors: list[str] = field(default_factory=list)
    runs: list[tuple[str, str, str]] = field(default_factory=list)  # collector, target, status
    collected_at: str | None = None  # when the data shown was collected (oldest run)
    last_ok: str | None = None  # newest collection where all of its runs were ok
    carried: str = ""  # "" | "as-is" | "stale" (a merge kept its previous state)
    failing: dict[str, dict[str, int]] = field(default_factory=dict)  # view -> sev -> n
    unknown: dict[str, int] = field(default_factory=dict)  # view -> unknown/error
    judged: dict[str, int] = field(default_factory=dict)  # view -> findings of any status
    controls: dict[str, str] = field(default_factory=dict)  # control id -> status

    def worst(self, view: str) -> str | None:
        """The worst severity among the open failing findings of one view."""
        for severity in SEVERITY_NAMES.values():
            if self.failing.get(view, {}).get(severity):
                return severity
        return None

    def failing_count(self, view: str) -> int:
        return sum(self.failing.get(view, {}).values())


def target_of(provider: str, scope: str) -> str:
    """The fleet target a scope belongs to (an AWS region scope to its account)."""
    if provider == "aws":
        return scope.split("/", 1)[0]
    return scope


def _kind(provider: str) -> str:
    if provider == "kubernetes":
        return "kubernetes cluster"
    if provider == "aws":
        return "aws account"
    return f"{provider or 'other'} results"


# Rows of one snapshot, by the scope of their resource. A finding whose resource is not
# in the snapshot (a whole scope, or one carried forward as unknown from a target gone
# blind) is grouped by its uid, placed afterwards by its resource's newest version, or
# else by what the uid says. Waived: a live waiver by fingerprint, or by check and glob.
_MATRIX_SQL = """
SELECT r.provider, r.scope, CASE WHEN r.uid IS NULL THEN f.resource_uid END,
  coalesce(c.provider, ''), f.view, f.check_id, f.status, f.severity_rank,
  CASE WHEN f.status != 'fail' THEN 0
       WHEN f.fingerprint IN (SELECT value FROM json_each(:fps)) THEN 1
       WHEN f.check_id IN (SELECT value FROM json_each(:globbed))
         THEN posture_fleet_waived(f.check_id, f.resource_uid)
       ELSE 0 END,
  count(*)
FROM main.findings f
LEFT JOIN main.resources r ON r.uid = f.resource_uid
  AND r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)
LEFT JOIN main.checks c ON c.id = f.check_id
WHERE f.valid_from <= :s AND (f.valid_to IS NULL OR f.valid_to > :s)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

# When each (collector, target) last collected with an ok run, up to the shown snapshot:
# a merged snapshot says when the part was collected, a poll when it finished.
_LAST_OK_SQL = """
SELECT c.collector, c.target, max(coalesce(m.collected_at, s.finished_at, s.started_at))
FROM main.collector_runs c JOIN main.snapshots s ON s.id = c.snapshot_id
LEFT JOIN main.merged_targets m ON m.snapshot_id = c.snapshot_id
  AND m.collector = c.collector AND m.target = c.target
WHERE c.status = 'ok' AND c.snapshot_id <= :s
GROUP BY 1, 2
"""


@dataclass
class Fleet:
    """The fleet of one snapshot: its targets (rows) and the controls evaluated on each."""

    snapshot: Snapshot | None
    rows: list[FleetRow]
    controls: list[Any]  # ControlMeta, in column order

    def row(self, name: str) -> FleetRow | None:
        return next((row for row in self.rows if row.name == name), None)


def fleet(
    store: Any,
    snapshot: Snapshot | None,
    metas: Iterable[Any] = (),
    now: datetime | None = None,
) -> Fleet:
    """Every target of ``snapshot``: health, data age, failing/unknown counts by view,
    and the status of each governance control (``metas``) on that target's findings.
    Live waivers (at ``now``) take findings out of the failing counts, not out of the
    controls (an accepted risk is still a gap, as in :mod:`postureapp.governance`)."""
    from postureapp.governance import evaluate_controls

    metas = list(metas)
    if snapshot is None:
        return Fleet(None, [], metas)
    moment = now or utcnow()
    conn = store.db.conn
    rows: dict[str, FleetRow] = {}

    def row_for(provider: str, scope: str) -> FleetRow:
        name = target_of(provider, scope)
        found = rows.get(name)
        if found is None:
            found = rows[name] = FleetRow(name=name, kind=_kind(provider), provider=provider)
        return found

    _add_runs(conn, snapshot, row_for)

    live = [w for w in store.waivers() if not w.is_expired(moment)]
    fps = [w.fingerprint for w in live if w.fingerprint]
    globs = [w for w in live if not w.fingerprint and w.check_id]

    def waived(check_id: str, uid: str) -> int:
        return int(
            any(
                w.check_id == check_id and fnmatch.fnmatchcase(uid, w.resource_glob or "*")
                for w in globs
            )
        )

    conn.create_function("posture_fleet_waived", 2, waived, deterministic=True)
    counts: dict[str, dict[str, dict[str, int]]] = {}  # target -> check -> status -> n
    critical: dict[str, dict[str, int]] = {}
    grouped = conn.execute(
        _MATRIX_SQL,
        {
            "s": snapshot.id,
            "fps": json.dumps(fps),
            "globbed": json.dumps(sorted({w.check_id for w in globs})),
        },
    ).fetchall()
    places = _places(conn, {group[2] for group in grouped if group[2] is not None})
    for (
        provider,
        scope,
        orphan,
        check_provider,
        view,
        check_id,
        status,
        rank,
        waived_,
        n,
    ) in grouped:
        if orphan is not None:
            provider, scope = places[orphan]
        provider = provider or check_provider
        if not scope:
            scope, provider = "(estate-wide)", provider or "other"
        row = row_for(provider, scope)
        row.judged[view] = row.judged.get(view, 0) + n
        if status == "fail" and not waived_:
            by_severity = row.failing.setdefault(view, {})
            severity = SEVERITY_NAMES.get(rank, "info")
            by_severity[severity] = by_severity.get(severity, 0) + n
        elif status in ("unknown", "error"):
            row.unknown[view] = row.unknown.get(view, 0) + n
        by_status = counts.setdefault(row.name, {}).setdefault(check_id, {})
        by_status[status] = by_status.get(status, 0) + n
        if status == "fail" and rank == Severity.CRITICAL.rank:
            crit = critical.setdefault(row.name, {})
            crit[check_id] = crit.get(check_id, 0) + n

    _add_labels(conn, snapshot.id, rows)
    providers = dict(conn.execute("SELECT id, provider FROM main.checks").fetchall())
    attestations = store.attestations()
    for row in rows.values():
        mine = counts.get(row.name, {})
        evaluated = evaluate_controls(metas, mine, attestations, moment, critical.get(row.name))
        for meta, control in zip(metas, evaluated, strict=True):
            applies = any(
                check_id in mine or providers.get(check_id) == row.provider
                for check_id in meta.checks
            ) or (meta.needs_attestation and not meta.checks)
            row.controls[meta.id] = control.status.value if applies else NOT_APPLICABLE
    ordered = sorted(rows.values(), key=lambda r: (KIND_ORDER.get(r.kind, 2), r.kind, r.name))
    return Fleet(snapshot, ordered, metas)


def _add_runs(conn: Any, snapshot: Snapshot, row_for: Any) -> None:
    """Each run of the snapshot to its target: health is its worst run, data age its
    oldest run (a target is as fresh as the least fresh thing said about it)."""
    merged = {
        (collector, target): (collected_at, carried)
        for collector, target, collected_at, carried in conn.execute(
            "SELECT collector, target, collected_at, carried FROM main.merged_targets"
            " WHERE snapshot_id = ?",
            (snapshot.id,),
        )
    }
    last_ok = {
        (collector, target): moment
        for collector, target, moment in conn.execute(_LAST_OK_SQL, {"s": snapshot.id})
    }
    seen: set[str] = set()
    for run in snapshot.runs:
        provider = run.provider or run.collector
        row = row_for(provider, run.scope or run.target)
        if provider == "aws" and not run.scope:  # failed before it learnt its account
            row.label = row.label or "profile; account not reached"
        status = run.status.value
        row.runs.append((run.collector, run.target, status))
        if row.health == "none" or _HEALTH_RANK[status] > _HEALTH_RANK.get(row.health, -1):
            row.health = status
        if run.error:
            row.errors.append(f"{run.collector} {run.target}: {run.error}")
        collected, carried = merged.get(
            (run.collector, run.target), (snapshot.finished_at or snapshot.started_at, "")
        )
        if row.collected_at is None or (collected and collected < row.collected_at):
            row.collected_at = collected
        if (carried and not row.carried) or carried == "stale":
            row.carried = carried
        ok = last_ok.get((run.collector, run.target))
        if row.name not in seen:
            seen.add(row.name)
            row.last_ok = ok
        elif row.last_ok is not None:
            row.last_ok = None if ok is None else min(row.last_ok, ok)


def _places(conn: Any, uids: set[str]) -> dict[str, tuple[str, str]]:
    """uid -> (provider, scope) of resources not in the snapshot: their newest version,
    else what the uid itself says."""
    from postureapp.store.views import parse_uid

    found: dict[str, tuple[str, str]] = {}
    wanted = sorted(uids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for uid, provider, scope in conn.execute(
            "SELECT uid, provider, scope FROM main.resources"  # noqa: S608
            f" WHERE uid IN ({','.join('?' * len(chunk))}) ORDER BY valid_from",
            chunk,
        ):
            found[uid] = (provider, scope)  # the newest version wins
    for uid in wanted:
        if uid not in found:
            _, _, _, scope, provider = parse_uid(uid)
            found[uid] = (provider, scope)
    return found


def _add_labels(conn: Any, snapshot_id: int, rows: Mapping[str, FleetRow]) -> None:
    """The account names an organisation gives its accounts (``AWSAccount`` resources)."""
    for attrs in conn.execute(
        "SELECT attrs FROM main.resources WHERE kind = 'AWSAccount'"
        " AND valid_from <= :s AND (valid_to IS NULL OR valid_to > :s)",
        {"s": snapshot_id},
    ):
        values = json.loads(attrs[0])
        row = rows.get(str(values.get("account_id", "")))
        if row is not None and values.get("name"):
            row.label = str(values["name"])
