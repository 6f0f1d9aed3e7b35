"""The Kubernetes checks (issue 3): importing this package registers them and the
Kubernetes governance controls in :data:`postureapp.checks.registry.REGISTRY`.

Modules, one per view: :mod:`.identities` (RBAC and workload identities),
:mod:`.endpoints` (exposure, network policies, mesh mTLS), :mod:`.secrets` (tokens,
rotation, certificates, literal credentials) and :mod:`.governance` (per-cluster
verdicts and controls), :mod:`.resilience` (rate limits, TLS at proxies, circuit
breakers) and :mod:`.observability` (log shipping, tracing); :mod:`.rbac` resolves
bindings into grants for them. Every check reads only the attrs documented in
:mod:`postureapp.collectors.kubernetes.normalise`.
"""

from postureapp.checks.kubernetes import (
    endpoints,
    governance,
    identities,
    observability,
    resilience,
    secrets,
)

__all__ = ["endpoints", "governance", "identities", "observability", "resilience", "secrets"]
