"""The ``postureapp/snapshot/v1`` JSON document: the stable contract other tools read.

Fields are only ever added to v1, never renamed or removed; a breaking change gets v2.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

from checks.registry import REGISTRY, Registry
from postureapp.governance import evaluate_controls
from postureapp.model import Snapshot, isoformat, utcnow
from postureapp.store import Store

SCHEMA_ID = "postureapp/snapshot/v1"


def tool_version() -> str:
    try:
        return version("postureapp")
    except PackageNotFoundError:
        return "0+unknown"


def build_document(
    store: Store, snapshot: Snapshot, registry: Registry = REGISTRY
) -> dict[str, Any]:
    """Everything a consumer needs about one snapshot, waivers evaluated as of now."""
    catalog = store.catalog()
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
    controls = evaluate_controls(
        registry.controls.values(), store.status_counts(snapshot.id), store.attestations(), now
    )
    return {
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
        "resources": list(store.resources(snapshot.id)),
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
    }


def write_json(document: dict[str, Any], out: IO[str]) -> None:
    json.dump(document, out, indent=1, ensure_ascii=False, sort_keys=False)
    out.write("\n")
