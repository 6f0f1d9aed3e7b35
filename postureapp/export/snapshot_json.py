"""The ``postureapp/snapshot/v1`` JSON document: the stable contract other tools read.

Fields are only ever added to v1, never renamed or removed; a breaking change gets v2.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

from postureapp.checks.registry import REGISTRY, Registry
from postureapp.export.common import bulk, write_records_json
from postureapp.export.rows import finding_chunks, resource_rows
from postureapp.governance import controls_of_snapshot
from postureapp.model import SEVERITY_RANK, Severity, Snapshot, Status, View, isoformat, utcnow
from postureapp.rootcause import DERIVED_NAME
from postureapp.store import Store
from postureapp.store.views import posture_score

SCHEMA_ID = "postureapp/snapshot/v1"


def tool_version() -> str:
    try:
        return version("postureapp")
    except PackageNotFoundError:
        return "0+unknown"


@bulk
def build_document(
    store: Store,
    snapshot: Snapshot,
    registry: Registry = REGISTRY,
    *,
    compare_to: int | None = None,
) -> dict[str, Any]:
    """Everything a consumer needs about one snapshot, waivers evaluated as of now.

    Args:
        compare_to: the snapshot id ``changes`` is computed from; by default the one
            before ``snapshot`` (``changes`` is null when there is none).

    Raises:
        LookupError: ``compare_to`` names a snapshot the cache does not hold.
    """
    catalog = store.catalog()
    now = utcnow()
    resources = resource_rows(store.db.conn, snapshot.id)
    findings = _findings(store, snapshot.id, catalog, now)
    controls = controls_of_snapshot(store, snapshot.id, registry.controls.values(), now)
    counts = Counter((f["status"], f["severity"], f["waived"], f["view"]) for f in findings)
    if compare_to is None:
        previous = store.previous(snapshot.id)
        compare_to = previous.id if previous is not None else None
    document = {
        "schema": SCHEMA_ID,
        "generated_at": isoformat(now),
        "tool": {"name": "postureapp", "version": tool_version()},
        "snapshot": {
            "id": snapshot.id,
            "started_at": snapshot.started_at,
            "finished_at": snapshot.finished_at,
            "status": snapshot.status.value,
            "resource_count": snapshot.resource_count,
            "finding_count": snapshot.finding_count,
        },
        "collector_runs": [run.to_dict() for run in snapshot.runs],
        "resources": resources,
        "findings": findings,
        "controls": [
            {
                "id": control.id,
                "title": control.title,
                "status": control.status.value,
                "coverage": control.coverage,
                "frameworks": control.frameworks,
                "checks": control.checks,
                "evidence": control.evidence,
                "attestation": None
                if control.attestation is None
                else {
                    "by": control.attestation.by,
                    "at": control.attestation.at,
                    "expires_at": control.attestation.expires_at,
                    "note": control.attestation.note,
                },
            }
            for control in controls
        ],
        "checks": [catalog[check_id] for check_id in sorted(catalog)],
        # Added in v1 (additive): the headline numbers and what changed, so every format
        # (and any consumer) reads them from the document instead of recomputing them.
        "summary": _summary(counts),
        "changes": None if compare_to is None else _changes(store, compare_to, snapshot.id),
        # Added in v1 (additive, issue 16): the dashboard's posture score.
        "score": _score(counts),
    }
    # Added in v1 (additive): every path from an internet-facing endpoint to what its
    # identities can do, as found when the snapshot was judged. A snapshot written by a
    # release that did not keep them has none, and the key is left out.
    paths = store.derived(snapshot.id, "attack_paths")
    if paths is not None:
        document["attack_paths"] = paths
    # Added in v1 (additive, issue 16): findings that share one cause (a binding, an IAM
    # group's policy, a mesh-wide policy, a published Service, a source that could not
    # be read), as named when the snapshot was judged; left out like attack_paths when
    # the snapshot was written by a release that did not name them.
    causes = store.derived(snapshot.id, DERIVED_NAME)
    if causes is not None:
        document["root_causes"] = causes
    return document


def _findings(
    store: Store, snapshot_id: int, catalog: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The snapshot's findings, worst first, each with its check's remediation and
    frameworks and whether a live waiver covers it now (``Store.findings`` plus the
    catalog and the waivers, built in one pass)."""
    # Most exports have no waiver in force: skip the per-finding match then.
    match = store.waiver_matcher(now) if _any_live_waiver(store, now) else None
    findings: list[dict[str, Any]] = []
    for rows, evidence in finding_chunks(store.db.conn, snapshot_id):
        _add_findings(findings, rows, evidence, catalog, match)
    return findings


def _add_findings(findings, rows, evidence, catalog, match) -> None:
    """Append one chunk of finding rows (see _findings) as the document's records."""
    empty: dict[str, Any] = {}
    append = findings.append
    for (fp, check_id, uid, status, severity, view, title, detail, _, first_seen), ev in zip(
        rows, evidence, strict=True
    ):
        meta = catalog.get(check_id, empty)
        waiver = None if match is None else match(fp, check_id, uid)
        append(
            {
                "fingerprint": fp,
                "check_id": check_id,
                "resource_uid": uid,
                "status": status,
                "severity": severity,
                "view": view,
                "title": title,
                "detail": detail,
                "evidence": ev,
                "first_seen": first_seen,
                "remediation": meta.get("remediation", ""),
                "frameworks": meta.get("frameworks") or {},
                "waived": waiver is not None,
                "waiver": None
                if waiver is None
                else {
                    "id": waiver.id,
                    "reason": waiver.reason,
                    "owner": waiver.owner,
                    "ticket": waiver.ticket,
                    "expires_at": waiver.expires_at,
                },
            }
        )


def _any_live_waiver(store: Store, now: datetime) -> bool:
    return any(not waiver.is_expired(now) for waiver in store.waivers())


def _summary(counts: Counter) -> dict[str, Any]:
    """summarize() from counts of (status, severity, waived, view)."""
    by_status = {status.value: 0 for status in Status}
    by_severity = {severity.value: 0 for severity in Severity}
    by_view = {view.value: {severity.value: 0 for severity in Severity} for view in View}
    waived = 0
    total = 0
    # Insertion order of unexpected values follows the findings' order, as summarize's.
    for (status, severity, is_waived, view), number in counts.items():
        total += number
        by_status[status] = by_status.get(status, 0) + number
        if status != Status.FAIL:
            continue
        if is_waived:
            waived += number
            continue
        by_severity[severity] = by_severity.get(severity, 0) + number
        by_view.setdefault(view, dict.fromkeys(by_severity, 0))
        by_view[view][severity] = by_view[view].get(severity, 0) + number
    return {
        "findings": total,
        "by_status": by_status,
        "open": sum(by_severity.values()),
        "open_by_severity": by_severity,
        "open_by_view": by_view,
        "waived_failing": waived,
    }


def _score_fields(score: Any) -> dict[str, Any]:
    return {
        "value": score.value,
        "passing": score.passing,
        "failing": score.failing,
        "waived": score.waived,
        "unknown": score.unknown,
    }


def _score(counts: Counter) -> dict[str, Any]:
    """score_findings() from counts of (status, severity, waived, view)."""
    merged: Counter = Counter()
    for (status, severity, waived, _), number in counts.items():
        merged[(status, severity, bool(waived))] += number
    score = posture_score((status, sev, waived, n) for (status, sev, waived), n in merged.items())
    return _score_fields(score)


def summarize(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for a headline: every status, and *open* failures (failing and not waived)
    by severity and by view. Waived failures are counted apart: an accepted risk is
    still listed, but it is not what a reader has to act on."""
    by_status = {status.value: 0 for status in Status}
    by_severity = {severity.value: 0 for severity in Severity}
    by_view = {view.value: {severity.value: 0 for severity in Severity} for view in View}
    waived = 0
    for finding in findings:
        status = finding["status"]
        by_status[status] = by_status.get(status, 0) + 1
        if status != Status.FAIL:
            continue
        if finding["waived"]:
            waived += 1
            continue
        severity = finding["severity"]
        by_severity[severity] = by_severity.get(severity, 0) + 1
        by_view.setdefault(finding["view"], dict.fromkeys(by_severity, 0))
        by_view[finding["view"]][severity] = by_view[finding["view"]].get(severity, 0) + 1
    return {
        "findings": len(findings),
        "by_status": by_status,
        "open": sum(by_severity.values()),
        "open_by_severity": by_severity,
        "open_by_view": by_view,
        "waived_failing": waived,
    }


def score_findings(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The posture score the dashboard's overview shows (``posture_score``: waivers live
    at export time), with the counts shown beside it. ``value`` is null when nothing
    was judged."""
    counts = Counter((f["status"], f["severity"], bool(f["waived"])) for f in findings)
    score = posture_score((status, sev, waived, n) for (status, sev, waived), n in counts.items())
    return _score_fields(score)


def document_score(document: dict[str, Any]) -> dict[str, Any]:
    """The document's score (computed for a document from before issue 16)."""
    return document.get("score") or score_findings(document["findings"])


def score_line(score: dict[str, Any]) -> str:
    """``87.5 / 100 (3 failing · 40 passing · 2 unknown, not counted · 1 waived)``."""
    value = "n/a (nothing judged)" if score["value"] is None else f"{score['value']:.1f} / 100"
    return (
        f"{value} ({score['failing']} failing · {score['passing']} passing"
        f" · {score['unknown']} unknown, not counted · {score['waived']} waived)"
    )


def _changes(store: Store, from_id: int, to_id: int) -> dict[str, Any]:
    diff = store.diff(from_id, to_id).to_dict()
    for key in ("opened", "resolved", "changed"):
        # The store sorts by severity and check; the uid makes the order total, so an
        # export of the same cache is byte-for-byte the same (golden files rely on it).
        diff[key].sort(
            key=lambda row: (
                -SEVERITY_RANK.get(row["severity"], 0),
                row["check_id"],
                row["resource_uid"],
            )
        )
    return diff


# Lists written one element per line (see write_records_json).
RECORD_KEYS = frozenset(
    {"collector_runs", "resources", "findings", "controls", "checks", "attack_paths"}
    | {"root_causes"}
    | {"opened", "resolved", "changed"}
)


@bulk
def write_json(document: dict[str, Any], out: IO[str]) -> None:
    """The document as UTF-8 JSON: indented, with one finding (resource, check...) a line."""
    write_records_json(document, out, RECORD_KEYS)
