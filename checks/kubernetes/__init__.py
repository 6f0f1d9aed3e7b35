"""The Kubernetes checks (issue 3): importing this package registers them and the
Kubernetes governance controls in :data:`postureapp.checks.registry.REGISTRY`.

Modules: :mod:`.identities` (RBAC); :mod:`.workloads` (the workloads' identities and
isolation, from pod templates and pods); :mod:`.endpoints` (exposure, network
policies, mesh mTLS) and :mod:`.admin_ui`; :mod:`.secrets` (tokens, rotation,
certificates, literal credentials); :mod:`.governance` (per-cluster verdicts and
controls); :mod:`.resilience` (rate limits, TLS at proxies, circuit breakers);
:mod:`.observability` (log shipping, tracing). :mod:`postureapp.domain.kubernetes`
holds the semantics they share. Every check reads attrs through
:func:`postureapp.facts.facts_of` and the types of :mod:`postureapp.facts.kubernetes`.
"""

from postureapp.checks.kubernetes import (
    admin_ui,
    endpoints,
    governance,
    identities,
    observability,
    resilience,
    secrets,
    workloads,
)

__all__ = [
    "admin_ui",
    "endpoints",
    "governance",
    "identities",
    "observability",
    "resilience",
    "secrets",
    "workloads",
]
