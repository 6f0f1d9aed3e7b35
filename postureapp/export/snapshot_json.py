"""The ``postureapp/snapshot/v1`` JSON document: the stable contract other tools read.

Fields are only ever added to v1, never renamed or removed; a breaking change gets v2.
"""

from __future__ import annotations

from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

from postureapp.checks.registry import REGISTRY, Registry
from postureapp.export.common import bulk, write_records_json
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
    resources = list(store.resources(snapshot.id))
    findings = list(store.findings(snapshot.id))
    waived = store.waived_fingerprints(findings)
    now = utcnow()
    for finding in findings:
        waiver = waived.get(finding["fingerprint"])
        meta = catalog.get(finding["check_id"], {})
        finding["remediation"] = meta.get("remediation", "")
        finding["frameworks"] = meta.get("frameworks", {})
        finding["waived"] = waiver is not None
        finding["waiver"] = (
            None
            if waiver is None
            else {
                "id": waiver.id,
                "reason": waiver.reason,
                "owner": waiver.owner,
                "ticket": waiver.ticket,
                "expires_at": waiver.expires_at,
            }
        )
        del finding["waiver_id"]
    controls = controls_of_snapshot(store, snapshot.id, registry.controls.values(), now)
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
        "summary": summarize(findings),
        "changes": None if compare_to is None else _changes(store, compare_to, snapshot.id),
        # Added in v1 (additive, issue 16): the dashboard's posture score.
        "score": score_findings(findings),
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
    return {
        "value": score.value,
        "passing": score.passing,
        "failing": score.failing,
        "waived": score.waived,
        "unknown": score.unknown,
    }


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
