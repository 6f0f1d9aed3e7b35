"""Helpers shared by the Kubernetes checks: scopes, workloads, selectors, dates.

Everything here reads only what :mod:`postureapp.collectors.kubernetes.normalise` documents; none
of it does I/O or reads the clock (callers pass ``inv.now``).
"""

from __future__ import annotations

from collections.abc import Iterable

CIS = "CIS Kubernetes"
ISO = "ISO 27001:2022"
SOC2 = "SOC 2"


def frameworks(
    *, cis: Iterable[str] = (), iso: Iterable[str], soc2: Iterable[str] = ()
) -> dict[str, list[str]]:
    """A check's ``frameworks`` mapping; ISO 27001:2022 Annex A is always required."""
    mapping = {ISO: list(iso)}
    if cis:
        mapping[CIS] = list(cis)
    if soc2:
        mapping[SOC2] = list(soc2)
    return mapping


# -- selectors -------------------------------------------------------------------------


# -- workloads -------------------------------------------------------------------------


# -- dates -----------------------------------------------------------------------------
