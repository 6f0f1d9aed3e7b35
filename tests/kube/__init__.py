"""The Kubernetes side of the test estate: the API server the tests talk to (the same
one ``posture demo`` runs, :mod:`postureapp.demo.kube_api`), the bundled fixture estate
and a generator for large synthetic clusters."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from postureapp.demo.kube_api import Fault, KubeAPIServer, write_kubeconfig
from tests.kube.estate import (
    CANARY_SECRET_VALUE,
    fixture_objects,
    generate_cluster,
    load_objects,
)


def server_from_files(paths: Iterable[str | Path], **kwargs: Any) -> KubeAPIServer:
    """A server holding every object of the given YAML/JSON ``List`` files."""
    return KubeAPIServer(load_objects(paths), **kwargs)


def server_from_fixtures(**kwargs: Any) -> KubeAPIServer:
    """A server holding the bundled fixture estate."""
    return KubeAPIServer(fixture_objects(), **kwargs)


__all__ = [
    "CANARY_SECRET_VALUE",
    "Fault",
    "KubeAPIServer",
    "fixture_objects",
    "generate_cluster",
    "load_objects",
    "server_from_files",
    "server_from_fixtures",
    "write_kubeconfig",
]
