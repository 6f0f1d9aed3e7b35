"""A Kubernetes API test server per test, a kubeconfig pointing at it, and a collector
with short timeouts and backoff so failure paths stay fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.model import Target
from tests.kube import KubeAPIServer, server_from_fixtures

TOKEN = "integration-test-token"
CONTEXT = "demo"


def fast_collector(**overrides) -> KubernetesCollector:
    options = {
        "page_size": 4,
        "backoff": 0.001,
        "max_backoff": 0.01,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
    }
    options.update(overrides)
    return KubernetesCollector(**options)


@pytest.fixture
def kube_server() -> Iterator[KubeAPIServer]:
    with server_from_fixtures(token=TOKEN) as server:
        yield server


@pytest.fixture
def kubeconfig(kube_server: KubeAPIServer, tmp_path: Path) -> Path:
    return kube_server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)


@pytest.fixture
def target(kubeconfig: Path) -> Target:
    return Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})


@pytest.fixture
def collector() -> KubernetesCollector:
    return fast_collector()
