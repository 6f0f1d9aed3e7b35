"""Workload checks on controllers and their pods: privileged-equivalent capabilities in
every container type, templates judged with no pod running, findings on resources the
inventory holds."""

from __future__ import annotations

import pytest

from postureapp.model import Severity, Status, k8s_uid

from .estate import (
    SCOPE,
    container,
    controller,
    inventory,
    pod,
    rb,
    results,
    role,
    rule,
    sa_subject,
    service_account,
    severity,
)


def uid(kind: str, name: str, ns: str = "shop") -> str:
    return k8s_uid(SCOPE, kind, name, ns)


def caps(*add: str) -> dict:
    return {"capabilities": {"add": list(add)}}


@pytest.mark.parametrize(
    "capability", ["SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "BPF", "ALL", "cap_sys_admin"]
)
@pytest.mark.parametrize("where", ["containers", "initContainers", "ephemeralContainers"])
def test_a_dangerous_capability_is_privileged_in_every_container_type(capability, where):
    spec = {where: [container("tool", securityContext=caps(capability))]}
    if where != "containers":
        spec["containers"] = [container()]
    inv = inventory(pod("tool", "shop", **spec))
    result = results("k8s-pod-privileged", inv)[uid("Pod", "tool")]
    assert result.status is Status.FAIL
    assert severity("k8s-pod-privileged", result) is Severity.HIGH
    name = capability.upper().removeprefix("CAP_")
    assert f"capability {name}" in result.detail


def test_net_admin_is_flagged_lower_unless_on_the_host_network():
    inv = inventory(
        pod(
            "meshed",
            "shop",
            initContainers=[container("istio-init", securityContext=caps("NET_ADMIN"))],
        ),
        pod(
            "router",
            "shop",
            hostNetwork=True,
            containers=[container(securityContext=caps("NET_ADMIN"))],
        ),
        pod("web", "shop", containers=[container(securityContext=caps("NET_BIND_SERVICE"))]),
    )
    found = results("k8s-pod-privileged", inv)
    assert found[uid("Pod", "meshed")].status is Status.FAIL
    assert severity("k8s-pod-privileged", found[uid("Pod", "meshed")]) is Severity.MEDIUM
    assert severity("k8s-pod-privileged", found[uid("Pod", "router")]) is Severity.HIGH
    assert found[uid("Pod", "web")].status is Status.PASS


def test_windows_host_process_is_privileged():
    inv = inventory(pod("win", "shop", securityContext={"windowsOptions": {"hostProcess": True}}))
    result = results("k8s-pod-privileged", inv)[uid("Pod", "win")]
    assert result.status is Status.FAIL and "HostProcess" in result.detail


def test_controllers_with_no_pod_running_are_judged_from_their_templates():
    privileged = container(securityContext={"privileged": True})
    inv = inventory(
        controller("Deployment", "idle", "shop", replicas=0, containers=[privileged]),
        controller("CronJob", "nightly", "shop", hostPID=True),
        controller("DaemonSet", "agent", "shop", hostNetwork=True, sa="agent"),
        read=["Pod", "Deployment", "CronJob", "DaemonSet"],
    )
    assert results("k8s-pod-privileged", inv)[uid("Deployment", "idle")].status is Status.FAIL
    hosts = results("k8s-pod-host-namespace", inv)
    assert hosts[uid("CronJob", "nightly")].status is Status.FAIL
    assert hosts[uid("DaemonSet", "agent")].status is Status.FAIL
    default_sa = results("k8s-sa-default-used", inv)
    assert default_sa[uid("CronJob", "nightly")].status is Status.FAIL
    assert default_sa[uid("DaemonSet", "agent")].status is Status.PASS


def test_a_deployment_is_one_workload_above_its_replica_sets_and_pods():
    inv = inventory(
        service_account("web", "shop"),
        controller("Deployment", "web", "shop", sa="web"),
        controller("ReplicaSet", "web-5d4c3b2a1", "shop", sa="web", owner=("Deployment", "web")),
        controller(
            "ReplicaSet", "web-0ld0ld0ld", "shop", sa="web", owner=("Deployment", "web"), replicas=0
        ),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web", sa="web"),
        controller("CronJob", "report", "shop", sa="report"),
        controller("Job", "report-28512345", "shop", sa="report", owner=("CronJob", "report")),
        read=["Pod", "Deployment", "ReplicaSet", "CronJob", "Job"],
    )
    found = results("k8s-sa-default-used", inv)
    assert set(found) == {uid("Deployment", "web"), uid("CronJob", "report")}
    shared = results("k8s-sa-shared", inv)
    assert shared[uid("ServiceAccount", "web")].evidence["workloads"] == ["Deployment/web"]
    # An account the collection did not hold: the finding names its first workload.
    assert shared[uid("CronJob", "report")].evidence["service_account"] == "shop/report"


def test_findings_hang_on_what_the_collection_holds():
    """Pods whose Deployment was not collected: hand-built, the inferred Deployment; from
    a collection that recorded what it read, the pod itself (every finding's resource is
    in the export)."""
    pods = [pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web")]
    assert set(results("k8s-sa-default-used", inventory(*pods))) == {uid("Deployment", "web")}
    recorded = inventory(*pods, read=["Pod", "Deployment", "ReplicaSet"])
    assert set(results("k8s-sa-default-used", recorded)) == {uid("Pod", "web-5d4c3b2a1-aaaaa")}


def test_an_idle_template_automount_is_judged_from_the_service_account():
    inv = inventory(
        service_account("quiet", "shop", automount=False),
        service_account("loud", "shop"),
        service_account("operator", "shop"),
        role("writer", "shop", rule(["update"], ["configmaps"])),
        rb("operator", "shop", "writer", sa_subject("operator")),
        controller("Deployment", "quiet", "shop", sa="quiet", replicas=0),
        controller("Deployment", "loud", "shop", sa="loud", replicas=0),
        controller("Deployment", "operator", "shop", sa="operator", replicas=0),
        read=["Pod", "Deployment", "ServiceAccount"],
    )
    found = results("k8s-pod-automount-token", inv)
    assert found[uid("Deployment", "quiet")].status is Status.PASS
    assert found[uid("Deployment", "loud")].status is Status.FAIL
    assert found[uid("Deployment", "operator")].status is Status.PASS
