"""Read, not served, unreadable: what a run says of each kind, live (discovery) and
offline (the dump's own files), and that an empty or unserved kind is an answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postureapp.collectors.offline import OfflineCollector, offline_targets
from postureapp.engine import Engine
from postureapp.model import KindRead, RunStatus, Status, Target, k8s_uid
from tests.kube import KubeAPIServer, server_from_fixtures
from tests.kube.dumps import kubectl_list, write_dump

from .conftest import CONTEXT, TOKEN, fast_collector

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}}


def argocd(service_type: str = "LoadBalancer") -> list[dict]:
    """Argo CD's server behind a Service of this type, on a cluster without Gateway API."""
    meta = {"name": "argocd-server", "namespace": "platform", "labels": {"app": "argocd"}}
    return [
        NS,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": dict(meta),
            "spec": {"type": service_type, "selector": {"app": "argocd"}, "ports": [{"port": 80}]},
        },
    ]


def live(server: KubeAPIServer, tmp_path: Path):
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
    target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
    return Engine({"kubernetes": fast_collector()}).run([target])


def offline(folder: Path):
    return Engine({"offline": OfflineCollector()}).run(offline_targets([folder]))


def verdict(judgement, check_id: str, uid: str) -> Status:
    found = [f.status for f in judgement.findings if f.check_id == check_id]
    matching = [
        f.status for f in judgement.findings if f.check_id == check_id and f.resource_uid == uid
    ]
    assert matching, (check_id, uid, found)
    return matching[0]


# -- live ----------------------------------------------------------------------------------


def test_live_run_records_read_and_not_served_kinds(tmp_path: Path) -> None:
    with server_from_fixtures(token=TOKEN) as server:
        server.unserve("policy/v1")
        judgement = live(server, tmp_path)
        lists = {r.path for r in server.requests}
    [run] = judgement.runs
    assert run.status is RunStatus.OK, run.error
    assert run.kinds["Pod"] == KindRead.READ and run.kinds["Deployment"] == KindRead.READ
    # An empty list is read; a group the cluster does not serve is not served.
    assert run.kinds["PodDisruptionBudget"] == KindRead.NOT_SERVED
    assert run.kinds["ClusterPolicy"] == KindRead.NOT_SERVED  # no Kyverno CRD
    assert not any(path.endswith("/poddisruptionbudgets") for path in lists)
    assert run.unknown == {}


def test_live_admin_ui_behind_a_load_balancer_fails_without_gateway_api(tmp_path: Path) -> None:
    with KubeAPIServer(argocd(), token=TOKEN) as server:
        judgement = live(server, tmp_path)
    [run] = judgement.runs
    assert run.kinds["HTTPRoute"] == KindRead.NOT_SERVED
    uid = k8s_uid(CONTEXT, "Service", "argocd-server", "platform")
    assert verdict(judgement, "k8s-admin-ui-exposed", uid) is Status.FAIL
    namespace = k8s_uid(CONTEXT, "Namespace", "platform")
    assert verdict(judgement, "k8s-netpol-missing", namespace) is Status.FAIL


def test_live_a_list_that_answers_404_is_not_served(tmp_path: Path) -> None:
    with server_from_fixtures(token=TOKEN) as server:
        server.fail("networkpolicies", status=404, times=None)
        judgement = live(server, tmp_path)
    [run] = judgement.runs
    assert run.kinds["NetworkPolicy"] == KindRead.NOT_SERVED and "NetworkPolicy" not in run.unknown


def test_live_kind_served_only_in_a_version_not_read_is_unknown(tmp_path: Path) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "certificates.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io",
            "names": {"kind": "Certificate", "plural": "certificates"},
            "scope": "Namespaced",
            "versions": [{"name": "v2", "served": True}],
        },
    }
    with KubeAPIServer([NS, crd], token=TOKEN) as server:
        judgement = live(server, tmp_path)
    [run] = judgement.runs
    assert "cert-manager.io/v2" in run.unknown["Certificate"]
    assert "Certificate" not in run.kinds


def test_live_malformed_object_is_dropped_and_makes_its_kind_unknown(tmp_path: Path) -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "platform"},
        "spec": {"containers": "nope"},
    }
    good = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-2", "namespace": "platform"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }
    with KubeAPIServer([NS, bad, good], token=TOKEN) as server:
        judgement = live(server, tmp_path)
    [run] = judgement.runs
    assert run.status is RunStatus.PARTIAL
    assert run.unknown["Pod"].startswith(
        "Pod platform/web-1: spec.containers is a string, expected a list"
    )
    assert "Pod" not in run.kinds
    assert {r.name for r in judgement.resources if r.kind == "Pod"} == {"web-2"}
    privileged = {f.status for f in judgement.findings if f.check_id == "k8s-pod-privileged"}
    assert privileged == {Status.UNKNOWN}  # never pass


# -- offline -------------------------------------------------------------------------------


def test_offline_empty_lists_are_read_and_missing_files_unknown(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "namespaces.json").write_text(json.dumps(kubectl_list([NS])))
    (folder / "networkpolicies.json").write_text(json.dumps(kubectl_list([])))
    (folder / "pods,services.yaml").write_text("apiVersion: v1\nkind: List\nitems: []\n")
    judgement = offline(folder)
    [run] = judgement.runs
    assert run.kinds["NetworkPolicy"] == "read" and run.kinds["Service"] == "read"
    assert run.unknown["Secret"] == "not in the offline dump"
    namespace = k8s_uid("offline", "Namespace", "platform")
    assert verdict(judgement, "k8s-netpol-missing", namespace) is Status.FAIL
    # Cluster-wide findings hang on the dump's own Cluster resource.
    cluster = k8s_uid("offline", "Cluster", "offline")
    assert cluster in {r.uid for r in judgement.resources}


@pytest.mark.parametrize("how", ["kubectl-error", "apigrouplist", "crd-list"])
def test_offline_unserved_gateway_api_is_an_answer(tmp_path: Path, how: str) -> None:
    folder = write_dump(argocd(), tmp_path / "dump")
    for name in ("gateways.json", "httproutes.json"):
        if how != "kubectl-error":
            (folder / name).unlink()
    if how != "apigrouplist":
        (folder / "apis.json").unlink()
    if how == "crd-list":
        (folder / "crds.json").write_text(json.dumps(kubectl_list([])))
    judgement = offline(folder)
    [run] = judgement.runs
    assert run.kinds["HTTPRoute"] == "not-served", run.unknown.get("HTTPRoute")
    uid = k8s_uid("offline", "Service", "argocd-server", "platform")
    assert verdict(judgement, "k8s-admin-ui-exposed", uid) is Status.FAIL
    cluster = next(r for r in judgement.resources if r.kind == "Cluster")
    assert cluster.attrs["installed"]["gateway_api"] is False


def test_offline_internal_admin_ui_passes_when_routes_are_not_served(tmp_path: Path) -> None:
    folder = write_dump(argocd("ClusterIP"), tmp_path / "dump")
    judgement = offline(folder)
    uid = k8s_uid("offline", "Service", "argocd-server", "platform")
    assert verdict(judgement, "k8s-admin-ui-exposed", uid) is Status.PASS


def test_offline_denied_and_empty_files_are_unknown_with_the_reason(tmp_path: Path) -> None:
    folder = write_dump(argocd("ClusterIP"), tmp_path / "dump")
    (folder / "secrets.json").write_text(
        'Error from server (Forbidden): secrets is forbidden: User "ci" cannot list resource '
        '"secrets" in API group "" at the cluster scope\n'
    )
    (folder / "ingresses.json").write_text("")
    judgement = offline(folder)
    [run] = judgement.runs
    assert "Forbidden" in run.unknown["Secret"] and "secrets.json" in run.unknown["Secret"]
    assert "is empty" in run.unknown["Ingress"]
    # Without Ingresses an internal admin UI cannot be told safe: unknown, not pass.
    uid = k8s_uid("offline", "Service", "argocd-server", "platform")
    assert verdict(judgement, "k8s-admin-ui-exposed", uid) is Status.UNKNOWN


def test_offline_a_file_of_an_unread_kind_in_a_folder_is_skipped(tmp_path: Path) -> None:
    folder = write_dump(argocd(), tmp_path / "dump")
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    (folder / "configmaps.json").write_text(json.dumps(kubectl_list([config_map])))
    judgement = offline(folder)
    [run] = judgement.runs
    assert run.status is RunStatus.OK, run.error
