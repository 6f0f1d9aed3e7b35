"""The Kubernetes collector: live (:class:`KubernetesCollector`, :func:`targets`) and
offline (:func:`load_path`, for ``kubectl get -o json`` dumps).

Both produce the same :class:`~postureapp.model.Resource` records, built by
:mod:`postureapp.collectors.kubernetes.normalise`, whose docstring documents every kind's attrs.
The ClusterRole the live collector needs is :data:`permissions.CLUSTER_ROLE_YAML`.

The live collector is imported on first use: it loads the official client (~0.2 s),
which reading a dump (``posture collect --from``, the on-call path) never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postureapp.collectors.kubernetes.offline import load_dump, load_path

if TYPE_CHECKING:
    from postureapp.collectors.kubernetes.collector import KubernetesCollector, targets

__all__ = ["KubernetesCollector", "load_dump", "load_path", "targets"]

_LIVE = {"KubernetesCollector", "targets"}


def __getattr__(name: str) -> Any:
    if name in _LIVE:
        from postureapp.collectors.kubernetes import collector

        return getattr(collector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
