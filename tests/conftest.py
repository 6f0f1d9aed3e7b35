"""Shared fixtures. Engine tests use small in-process collectors that honour the
collector contract; collectors themselves are tested against real servers elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Callable

import freezegun
import pytest

from postureapp.checks.registry import Registry, Result
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.model import Resource, Severity, Status, Target, View, k8s_uid
from postureapp.store import Store

# freezegun walks every loaded module's attributes when it starts; on the kubernetes
# client (lazy __getattr__ imports of pydantic models) that imports model modules while
# datetime is faked, and pydantic cannot build a schema for FakeDatetime.
freezegun.configure(extend_ignore_list=["kubernetes", "pydantic", "py_ocsf_models"])


class ScriptedCollector:
    """Returns whatever the test scripted for each target: resources, gaps, failure,
    an exception, or a delay. Used to drive the engine through every outcome."""

    name = "kubernetes"
    provider = "kubernetes"

    def __init__(self) -> None:
        self.pods: dict[str, list[str]] = {}
        self.bad: set[str] = set()
        self.unknown: dict[str, dict[str, str]] = {}
        self.fail: dict[str, str] = {}
        self.raise_on: set[str] = set()
        self.block: dict[str, threading.Event] = {}
        self.calls = 0

    def collect(self, target: Target) -> CollectResult:
        self.calls += 1
        if target.name in self.block:
            self.block[target.name].wait(30)
        if target.name in self.raise_on:
            raise RuntimeError(f"boom on {target.name}")
        recorder = RunRecorder(self.name, target.name, scope=target.name)
        if target.name in self.fail:
            recorder.fail(self.fail[target.name])
            return CollectResult([], recorder.finish(0))
        resources = []
        for kind, reason in self.unknown.get(target.name, {}).items():
            recorder.mark_unknown(kind, reason)
        if "Pod" not in self.unknown.get(target.name, {}):
            for name in self.pods.get(target.name, []):
                resources.append(
                    Resource(
                        uid=k8s_uid(target.name, "Pod", name, "shop"),
                        provider="kubernetes",
                        scope=target.name,
                        kind="Pod",
                        name=name,
                        namespace="shop",
                        attrs={"privileged": name in self.bad},
                    )
                )
        return CollectResult(resources, recorder.finish(len(resources)))


def privileged_pod_registry() -> Registry:
    registry = Registry()

    @registry.check(
        id="test-privileged-pod",
        title="Privileged pod",
        view=View.IDENTITIES,
        severity=Severity.HIGH,
        provider="kubernetes",
        requires=("Pod",),
        remediation="Drop privileged: true.",
        frameworks={"CIS Kubernetes": ["5.2.1"]},
    )
    def privileged(inv):
        for pod in inv.of("kubernetes", "Pod"):
            status = Status.FAIL if pod.attrs["privileged"] else Status.PASS
            yield Result(pod, status, detail=f"{pod.name} privileged={pod.attrs['privileged']}")

    registry.control(
        id="test-least-privilege",
        title="Workloads run unprivileged",
        frameworks={"ISO 27001:2022": ["A.8.2"]},
        checks=["test-privileged-pod"],
    )
    return registry


@pytest.fixture
def store(tmp_path) -> Store:
    opened = Store(tmp_path / "cache" / "posture.db")
    yield opened
    opened.close()


@pytest.fixture
def collector() -> ScriptedCollector:
    return ScriptedCollector()


@pytest.fixture
def make_engine(store, collector) -> Callable:
    from postureapp.poll import Poller

    def build(**kwargs):
        kwargs.setdefault("registry", privileged_pod_registry())
        return Poller(store, {"kubernetes": collector}, **kwargs)

    return build
