"""Governance controls: the status of each control from its evidencing checks.

The rule, documented in README ("Governance status"):

* **unknown** — no evidence at all, or some evidence unknown/error and none failing,
  or a control that needs a manual attestation has none (never "pass" by default);
* **fail** — evidence failing and none passing, or its attestation has expired;
* **partial** — some evidence failing, some passing;
* **pass** — every evidencing finding passes (and the attestation, if needed, is current).

Waivers do not change a control: an accepted risk is still a gap an auditor must see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from checks.registry import ControlMeta
from postureapp.model import Attestation, Control, ControlStatus, utcnow


def evaluate_controls(
    controls: Iterable[ControlMeta],
    counts: Mapping[str, Mapping[str, int]],
    attestations: Mapping[str, Attestation],
    now: datetime | None = None,
) -> list[Control]:
    """Args:
    counts: check_id -> {status: number of findings} for one snapshot.
    attestations: the latest attestation per control id.
    """
    moment = now or utcnow()
    result = []
    for meta in controls:
        control = meta.blank()
        totals = {"pass": 0, "fail": 0, "unknown": 0, "error": 0}
        for check_id in meta.checks:
            by_status = dict(counts.get(check_id, {}))
            control.evidence[check_id] = by_status
            for status, number in by_status.items():
                totals[status] = totals.get(status, 0) + number
        judged = sum(totals.values())
        control.coverage = round(totals["pass"] / judged, 4) if judged else None
        control.attestation = attestations.get(meta.id)
        control.status = _status(meta, totals, control.attestation, moment)
        result.append(control)
    return result


def _status(
    meta: ControlMeta, totals: dict[str, int], attestation: Attestation | None, now: datetime
) -> ControlStatus:
    if meta.needs_attestation:
        if attestation is None:
            return ControlStatus.UNKNOWN
        if not attestation.is_active(now):
            return ControlStatus.FAIL
    if totals["fail"]:
        return ControlStatus.PARTIAL if totals["pass"] else ControlStatus.FAIL
    if totals["unknown"] or totals["error"]:
        return ControlStatus.UNKNOWN
    if totals["pass"]:
        return ControlStatus.PASS
    # Nothing judged: only a control vouched for by a person can pass on its own.
    return (
        ControlStatus.PASS if meta.needs_attestation and not meta.checks else ControlStatus.UNKNOWN
    )
