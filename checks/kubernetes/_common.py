"""Helpers shared by the Kubernetes checks: scopes, workloads, selectors, dates.

Everything here reads only what :mod:`postureapp.collectors.kubernetes.normalise` documents; none
of it does I/O or reads the clock (callers pass ``inv.now``).
"""

from __future__ import annotations

# -- selectors -------------------------------------------------------------------------


# -- workloads -------------------------------------------------------------------------


# -- dates -----------------------------------------------------------------------------
