"""Governance by framework: each requirement of ISO 27001:2022, SOC 2, CIS or AWS FSBP
with the controls and checks that evidence it, and a status read from theirs.

Pure: given evaluated controls (``DashboardQueries.controls``), the check catalog and
the finding counts per check, nothing here reads the store or imports Textual.

A requirement's status follows the controls' rule one level up: **pass** only when
every piece of evidence (each citing control, each citing check) passes; **fail** when
some fails and none passes; **partial** when some fail and some pass; **unknown** when
nothing fails but something is unknown, or nothing evidences it at all. A check citing
it directly is judged like a control (a failing critical finding fails it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What the screen offers; "CIS" gathers every CIS benchmark of the catalog.
FRAMEWORK_GROUPS = ("ISO 27001:2022", "SOC 2", "CIS", "AWS FSBP")
STATUSES = ("fail", "partial", "unknown", "pass")


def in_group(name: str, group: str) -> bool:
    return name.startswith("CIS") if group == "CIS" else name == group


@dataclass
class Requirement:
    """One requirement (``A.5.15``, ``CC6.1``, ``CIS AWS 3.1``) and its evidence."""

    framework: str  # the catalog's name: "ISO 27001:2022", "CIS AWS"
    id: str
    status: str = "unknown"
    controls: list[Any] = field(default_factory=list)  # evaluated Control objects
    direct: list[str] = field(default_factory=list)  # checks citing it themselves
    counts: dict[str, int] = field(default_factory=dict)  # findings of all its checks

    @property
    def label(self) -> str:
        if self.framework.startswith("CIS "):
            return f"{self.framework[4:]} {self.id}"
        return self.id

    @property
    def checks(self) -> list[str]:
        """Every check evidencing it: its controls' and its own, once each."""
        seen: dict[str, None] = {}
        for control in self.controls:
            seen.update(dict.fromkeys(control.checks))
        seen.update(dict.fromkeys(self.direct))
        return list(seen)

    @property
    def coverage(self) -> float | None:
        """Share of its judged findings that pass (unknown ones count as not passing)."""
        judged = sum(self.counts.values())
        return self.counts.get("pass", 0) / judged if judged else None


def check_status(counts: Mapping[str, int], critical: int = 0) -> str:
    """The status of one check's findings, by the controls' rule (a failing critical
    finding fails it whatever passes beside it)."""
    if counts.get("fail"):
        return "partial" if counts.get("pass") and not critical else "fail"
    if counts.get("unknown") or counts.get("error"):
        return "unknown"
    return "pass" if counts.get("pass") else "unknown"


def combine(statuses: Iterable[str]) -> str:
    """The status of a requirement from its pieces of evidence (module docstring)."""
    found = list(statuses)
    if not found:
        return "unknown"
    failing = any(status in ("fail", "partial") for status in found)
    passing = any(status in ("pass", "partial") for status in found)
    if failing:
        return "partial" if passing else "fail"
    if "unknown" in found:
        return "unknown"
    return "pass"


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def frameworks(controls: Iterable[Any], checks: Iterable[Any]) -> list[str]:
    """The framework groups the catalog cites, in :data:`FRAMEWORK_GROUPS` order."""
    names = {name for item in [*controls, *checks] for name in item.frameworks}
    return [group for group in FRAMEWORK_GROUPS if any(in_group(n, group) for n in names)]


def requirements(
    group: str,
    controls: Iterable[Any],
    checks: Iterable[Any],
    counts: Mapping[str, Mapping[str, int]],
    critical: Mapping[str, int] | None = None,
) -> list[Requirement]:
    """The requirements of one framework group, worst first, then in document order.

    Args:
        controls: evaluated controls (``frameworks``, ``checks``, ``status``).
        checks: check catalog entries (``id``, ``frameworks``).
        counts: check id -> {status: findings} for the shown rows.
        critical: check id -> its failing critical findings.
    """
    critical = critical or {}
    found: dict[tuple[str, str], Requirement] = {}

    def requirement(name: str, ident: str) -> Requirement:
        return found.setdefault((name, ident), Requirement(name, ident))

    for control in controls:
        for name, idents in control.frameworks.items():
            if in_group(name, group):
                for ident in idents:
                    requirement(name, str(ident)).controls.append(control)
    for check in checks:
        for name, idents in check.frameworks.items():
            if in_group(name, group):
                for ident in idents:
                    requirement(name, str(ident)).direct.append(check.id)
    for item in found.values():
        totals: dict[str, int] = {}
        for check_id in item.checks:
            for status, number in counts.get(check_id, {}).items():
                totals[status] = totals.get(status, 0) + number
        item.counts = totals
        pieces = [control.status.value for control in item.controls]
        pieces += [
            check_status(counts.get(check_id, {}), critical.get(check_id, 0))
            for check_id in item.direct
        ]
        item.status = combine(pieces)
    order = {status: rank for rank, status in enumerate(STATUSES)}
    return sorted(
        found.values(),
        key=lambda r: (order.get(r.status, 9), _natural(r.framework), _natural(r.id)),
    )
