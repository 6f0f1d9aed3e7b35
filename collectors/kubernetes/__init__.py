"""The Kubernetes collector: live (:class:`KubernetesCollector`, :func:`targets`) and
offline (:func:`load_path`, for ``kubectl get -o json`` dumps).

Both produce the same :class:`~postureapp.model.Resource` records, built by
:mod:`postureapp.collectors.kubernetes.normalise`, whose docstring documents every kind's attrs.
The ClusterRole the live collector needs is :data:`permissions.CLUSTER_ROLE_YAML`.
"""

from postureapp.collectors.kubernetes.collector import KubernetesCollector, targets
from postureapp.collectors.kubernetes.offline import load_dump, load_path

__all__ = ["KubernetesCollector", "load_dump", "load_path", "targets"]
