"""Test and demo infrastructure that ships with the package.

:mod:`postureapp.testing.kube_api` is a small read-only Kubernetes API server speaking
the real HTTP API on 127.0.0.1; :mod:`postureapp.testing.kube_estate` holds the fixture
estate it serves by default and a generator for large synthetic clusters. The tests and
``posture demo`` use both. Nothing here is imported by the collectors or the engine.
"""

from postureapp.testing.kube_api import Fault, KubeAPIServer, write_kubeconfig
from postureapp.testing.kube_estate import (
    CANARY_SECRET_VALUE,
    fixture_objects,
    generate_cluster,
    load_objects,
)

__all__ = [
    "CANARY_SECRET_VALUE",
    "Fault",
    "KubeAPIServer",
    "fixture_objects",
    "generate_cluster",
    "load_objects",
    "write_kubeconfig",
]
