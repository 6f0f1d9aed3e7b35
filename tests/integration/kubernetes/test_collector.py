"""The Kubernetes collector over real HTTP against the test API server."""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from postureapp.collectors.base import Collector
from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.collectors.kubernetes import collector as collector_module
from postureapp.collectors.kubernetes.collector import METADATA_LIST_ACCEPT
from postureapp.collectors.kubernetes.kinds import BY_GROUP_KIND
from postureapp.model import RunStatus, Target, k8s_uid
from tests.kube import KubeAPIServer, fixture_objects, server_from_fixtures
from tests.kube.estate import CANARY_ENV_VALUE, CANARY_SECRET_B64, CANARY_SECRET_VALUE

from .conftest import CONTEXT, TOKEN, fast_collector


def expected_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for obj in fixture_objects():
        group = obj["apiVersion"].rpartition("/")[0]
        if (group, obj["kind"]) in BY_GROUP_KIND:
            counts[obj["kind"]] += 1
    return counts


def by_name(resources, kind: str) -> dict[str, object]:
    return {
        (r.namespace + "/" if r.namespace else "") + r.name: r for r in resources if r.kind == kind
    }


def test_collector_satisfies_the_protocol() -> None:
    assert isinstance(KubernetesCollector(), Collector)


def test_collects_every_kind(kube_server, target, collector) -> None:
    result = collector.collect(target)

    assert result.run.status is RunStatus.OK, result.run.error
    assert result.run.scope == CONTEXT and result.run.target == CONTEXT
    counts = Counter(r.kind for r in result.resources)
    expected = expected_counts()
    expected["Cluster"] = 1
    assert counts == expected
    assert result.run.items == len(result.resources)
    uids = [r.uid for r in result.resources]
    assert len(uids) == len(set(uids))
    pod = by_name(result.resources, "Pod")["payments/payments-api-7d9f8b6c5d-x2x9k"]
    assert pod.uid == k8s_uid(CONTEXT, "Pod", pod.name, "payments")
    assert pod.scope == CONTEXT and pod.provider == "kubernetes"
    assert pod.created_at == "2024-10-01T09:00:05Z"
    role = by_name(result.resources, "ClusterRole")["cluster-admin"]
    assert role.uid == f"k8s://{CONTEXT}/_/ClusterRole/cluster-admin" and role.namespace == ""


def test_pages_through_every_list(kube_server, target) -> None:
    result = fast_collector(page_size=2).collect(target)

    assert result.run.status is RunStatus.OK
    pod_requests = kube_server.requests_for("/api/v1/pods")
    assert all(r.query.get("limit") == "2" for r in pod_requests)
    assert sum("continue" in r.query for r in pod_requests) == 3  # 8 pods, 2 per page
    assert len(by_name(result.resources, "Pod")) == expected_counts()["Pod"]
    # Every list, built-in or custom, was paged the same way.
    lists = [r for r in kube_server.requests if r.path not in ("/version", "/apis")]
    lists = [r for r in lists if not r.path.startswith("/apis/") or r.path.count("/") > 3]
    assert lists and all(r.query.get("limit") == "2" for r in lists)
    assert result.run.api_calls == len(kube_server.requests)


def test_attrs_from_every_kind(kube_server, target, collector) -> None:
    resources = collector.collect(target).resources

    payments = by_name(resources, "Namespace")["payments"].attrs
    assert payments["pod_security"]["enforce"] == "restricted"
    assert payments["pod_security"]["enforce_version"] == "latest"
    assert by_name(resources, "Namespace")["legacy"].attrs["pod_security"]["enforce"] is None

    sa = by_name(resources, "ServiceAccount")["payments/payments-api"].attrs
    assert sa["irsa_role_arn"] == "arn:aws:iam::123456789012:role/payments-api"
    assert (
        by_name(resources, "ServiceAccount")["frontend/web"].attrs[
            "automount_service_account_token"
        ]
        is False
    )

    binding = by_name(resources, "ClusterRoleBinding")["ci-deployer-admin"].attrs
    assert binding["role_ref"] == {
        "api_group": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "cluster-admin",
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "ci-deployer",
            "namespace": "kube-system",
            "api_group": None,
        }
    ]
    assert by_name(resources, "ClusterRole")["cluster-admin"].attrs["rules"][0]["verbs"] == ["*"]

    api = by_name(resources, "Pod")["payments/payments-api-7d9f8b6c5d-x2x9k"].attrs
    assert api["workload"] == {"kind": "Deployment", "name": "payments-api", "inferred": True}
    assert api["service_account"] == "payments-api"
    assert "payments-db" in api["secret_refs"] and "regcred" in api["secret_refs"]
    debug = by_name(resources, "Pod")["kube-system/debug-shell"].attrs
    assert debug["privileged"] and debug["host_network"] and debug["host_ipc"]
    assert debug["workload"] == {"kind": "Pod", "name": "debug-shell", "inferred": False}
    exporter = by_name(resources, "Pod")["monitoring/node-exporter-7xk2p"].attrs
    assert exporter["host_pid"] and exporter["host_ports"] == [9100]
    assert exporter["workload"]["kind"] == "DaemonSet"

    web = by_name(resources, "Service")["frontend/web"].attrs
    assert web["type"] == "LoadBalancer"
    assert web["load_balancer_ingress"][0]["hostname"].endswith(".elb.eu-west-1.amazonaws.com")
    assert by_name(resources, "Service")["legacy/legacy-db"].attrs["external_ips"] == [
        "203.0.113.10"
    ]

    assert by_name(resources, "Ingress")["frontend/web"].attrs["hosts_without_tls"] == []
    assert by_name(resources, "Ingress")["legacy/admin"].attrs["hosts_without_tls"] == [
        "*",
        "admin.example.com",
    ]
    assert by_name(resources, "NetworkPolicy")["payments/default-deny-ingress"].attrs[
        "default_deny_ingress"
    ]
    assert by_name(resources, "NetworkPolicy")["legacy/allow-all"].attrs["allows_all_ingress"]
    assert by_name(resources, "MutatingWebhookConfiguration")["istio-sidecar-injector"].attrs[
        "webhook_names"
    ] == ["namespace.sidecar-injector.istio.io"]

    token = by_name(resources, "Secret")["legacy/legacy-app-token"].attrs
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["legacy_token_last_used"] == "2024-01-15"
    assert token["service_account"] == "legacy-app"
    assert (
        by_name(resources, "Secret")["payments/sh.helm.release.v1.payments-api.v3"].attrs["type"]
        == "other"
    )

    permissive = by_name(resources, "PeerAuthentication")["payments/payments-permissive"].attrs
    assert permissive["mtls_mode"] == "PERMISSIVE"
    assert permissive["port_level_mtls"] == {"9090": "DISABLE"}
    assert by_name(resources, "Certificate")["frontend/web-cert"].attrs["not_after"] == (
        "2025-02-01T00:00:00Z"
    )
    assert (
        by_name(resources, "DestinationRule")["legacy/legacy-db-plaintext"].attrs["tls_mode"]
        == "DISABLE"
    )

    cluster = by_name(resources, "Cluster")[CONTEXT].attrs
    assert cluster["version"]["git_version"] == "v1.31.4"
    assert cluster["server"] == kube_server.url
    assert cluster["installed"] == {
        "istio": True,
        "gateway_api": False,
        "cert_manager": True,
        "gatekeeper": True,
        "kyverno": False,
    }
    assert cluster["crds"]["PeerAuthentication"] == "security.istio.io/v1"


def test_attrs_are_plain_json(kube_server, target, collector) -> None:
    for resource in collector.collect(target).resources:
        assert json.loads(json.dumps(resource.attrs)) == resource.attrs


def test_secrets_are_read_as_metadata_only(kube_server, target, collector) -> None:
    result = collector.collect(target)

    secret_requests = kube_server.requests_for("/api/v1/secrets")
    assert len(secret_requests) >= 8  # the list plus one per known type
    assert all(r.accept == METADATA_LIST_ACCEPT for r in secret_requests)
    assert {r.query.get("fieldSelector") for r in secret_requests} >= {
        None,
        "type=Opaque",
        "type=kubernetes.io/service-account-token",
        "type=bootstrap.kubernetes.io/token",
    }
    dumped = json.dumps([r.to_dict() for r in result.resources])
    for canary in (CANARY_SECRET_VALUE, CANARY_SECRET_B64, CANARY_ENV_VALUE):
        assert canary not in dumped
    assert "last-applied-configuration" not in dumped


def test_a_server_ignoring_metadata_only_is_refused(kube_server, target, collector) -> None:
    kube_server.honour_metadata_accept = False

    result = collector.collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert "ignored the metadata-only request" in result.run.unknown["Secret"]
    assert not by_name(result.resources, "Secret")
    assert CANARY_SECRET_B64 not in json.dumps([r.to_dict() for r in result.resources])


def test_forbidden_kind_is_unknown_and_the_rest_goes_on(kube_server, target, collector) -> None:
    kube_server.forbid("secrets")

    result = collector.collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"Secret"}
    assert "list secrets (cluster scope)" in result.run.unknown["Secret"]
    assert "403" in result.run.unknown["Secret"]
    counts = Counter(r.kind for r in result.resources)
    assert "Secret" not in counts
    assert counts["Pod"] == expected_counts()["Pod"]
    assert "Secret" in result.run.error


def test_forbidden_custom_resource(kube_server, target, collector) -> None:
    kube_server.forbid("peerauthentications", group="security.istio.io")

    result = collector.collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert result.run.unknown == {
        "PeerAuthentication": "forbidden (403): missing permission list "
        "peerauthentications.security.istio.io (cluster scope)"
    }
    assert by_name(result.resources, "AuthorizationPolicy")


def test_rejected_credentials_fail_the_target(kube_server, tmp_path, collector) -> None:
    path = kube_server.write_kubeconfig(tmp_path / "bad", context=CONTEXT, token="expired")

    result = collector.collect(Target("kubernetes", CONTEXT, {"kubeconfig": str(path)}))

    assert result.run.status is RunStatus.FAILED
    assert "credentials rejected (401) for context 'demo'" in result.run.error
    assert result.resources == []
    assert "expired" not in result.run.error  # the token is never echoed


def test_an_expired_continue_token_restarts_the_list_once(kube_server, target) -> None:
    kube_server.expire_continue("pods", times=1, after=1)

    result = fast_collector(page_size=2).collect(target)

    assert result.run.status is RunStatus.OK, result.run.error
    pods = [r for r in result.resources if r.kind == "Pod"]
    assert len(pods) == len({p.uid for p in pods}) == expected_counts()["Pod"]
    firsts = [r for r in kube_server.requests_for("/api/v1/pods") if "continue" not in r.query]
    assert len(firsts) == 2  # the list started over


def test_a_list_that_keeps_expiring_is_unknown(kube_server, target) -> None:
    kube_server.expire_continue("pods", times=None)

    result = fast_collector(page_size=2).collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert "expired twice" in result.run.unknown["Pod"]
    assert not by_name(result.resources, "Pod")


def test_a_server_that_dies_mid_list_fails_the_target(kube_server, target) -> None:
    kube_server.die("pods", after=2)

    result = fast_collector(page_size=2, workers=1).collect(target)

    assert result.run.status is RunStatus.FAILED
    assert "lost the API server" in result.run.error and "list pods" in result.run.error
    assert result.resources == []
    assert kube_server.dead


def test_a_dropped_connection_is_retried(kube_server, target) -> None:
    kube_server.drop_connection("pods", times=2, after=1)

    result = fast_collector(page_size=2).collect(target)

    assert result.run.status is RunStatus.OK, result.run.error
    assert len(by_name(result.resources, "Pod")) == expected_counts()["Pod"]


def test_server_errors_are_retried_then_succeed(kube_server, target, collector) -> None:
    kube_server.fail("services", status=503, times=2)
    kube_server.fail("roles", status=429, times=1, retry_after=0)

    result = collector.collect(target)

    assert result.run.status is RunStatus.OK, result.run.error
    assert len(by_name(result.resources, "Service")) == expected_counts()["Service"]
    assert len(by_name(result.resources, "Role")) == expected_counts()["Role"]
    assert result.run.api_calls == len(kube_server.requests)


def test_persistent_server_errors_make_the_kind_unknown(kube_server, target, collector) -> None:
    kube_server.fail("services", status=500, times=None)

    result = collector.collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert "HTTP 500" in result.run.unknown["Service"]
    assert "after 3 tries" in result.run.unknown["Service"]
    assert len(kube_server.requests_for("/api/v1/services")) == 3


def test_a_read_timeout_is_retried_then_unknown(kube_server, target) -> None:
    kube_server.delay("networkpolicies", seconds=0.6, times=None)

    result = fast_collector(read_timeout=0.2, attempts=2).collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert "no answer within 0.2 s" in result.run.unknown["NetworkPolicy"]


def test_a_malformed_answer_makes_the_kind_unknown(kube_server, target, collector) -> None:
    kube_server.garble("ingresses", times=None)

    result = collector.collect(target)

    assert result.run.status is RunStatus.PARTIAL
    assert "not JSON" in result.run.unknown["Ingress"]


def test_discovery_follows_what_is_installed(kube_server, target, collector) -> None:
    kube_server.add(
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": {"name": "require-team-label"},
            "spec": {
                "validationFailureAction": "Enforce",
                "rules": [{"name": "check-team", "validate": {"pattern": {}}}],
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "public", "namespace": "frontend"},
            "spec": {
                "gatewayClassName": "istio",
                "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
            },
        },
    )

    result = collector.collect(target)

    assert result.run.status is RunStatus.OK, result.run.error
    assert (
        by_name(result.resources, "ClusterPolicy")["require-team-label"].attrs[
            "validation_failure_action"
        ]
        == "Enforce"
    )
    gateway = by_name(result.resources, "Gateway")["frontend/public"].attrs
    assert gateway["listeners"][0]["tls_mode"] is None
    cluster = by_name(result.resources, "Cluster")[CONTEXT].attrs
    assert cluster["installed"]["kyverno"] and cluster["installed"]["gateway_api"]
    assert not by_name(result.resources, "HTTPRoute")  # installed, none yet

    kube_server.remove("Gateway", "public", "frontend", api_version="gateway.networking.k8s.io/v1")
    again = collector.collect(target)
    assert not by_name(again.resources, "Gateway")


def test_an_unreachable_server_fails_the_target(tmp_path, collector) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = KubeAPIServer(port=port)
    path = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)

    result = collector.collect(Target("kubernetes", CONTEXT, {"kubeconfig": str(path)}))

    assert result.run.status is RunStatus.FAILED
    assert result.run.error.startswith(f"cannot reach the API server at http://127.0.0.1:{port}")


def test_an_unknown_context_fails_the_target(target, collector) -> None:
    result = collector.collect(Target("kubernetes", "nope", target.options))

    assert result.run.status is RunStatus.FAILED
    assert "cannot load context 'nope'" in result.run.error


def test_collect_never_raises(kube_server, target, collector, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(collector_module, "normalise", explode)
    partial = collector.collect(target)
    assert partial.run.status is RunStatus.PARTIAL
    assert partial.run.unknown["Pod"] == "unexpected error: RuntimeError: boom"

    monkeypatch.setattr(collector_module._Collection, "run", explode)
    failed = collector.collect(target)
    assert failed.run.status is RunStatus.FAILED
    assert "RuntimeError: boom" in failed.run.error


def test_https_with_the_cluster_ca(tmp_path, collector) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with server_from_fixtures(token=TOKEN, ssl_context=context) as server:
        good = server.write_kubeconfig(tmp_path / "good", CONTEXT, ca_pem=ca.cert_pem.bytes())
        untrusted = server.write_kubeconfig(tmp_path / "untrusted", CONTEXT)

        ok = collector.collect(Target("kubernetes", CONTEXT, {"kubeconfig": str(good)}))
        refused = collector.collect(Target("kubernetes", CONTEXT, {"kubeconfig": str(untrusted)}))

    assert ok.run.status is RunStatus.OK, ok.run.error
    assert refused.run.status is RunStatus.FAILED
    assert "cannot reach the API server" in refused.run.error


def test_in_cluster_config(tmp_path, collector, monkeypatch) -> None:
    trustme = pytest.importorskip("trustme")
    import ssl

    from kubernetes.config import incluster_config

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    token_file, ca_file = tmp_path / "token", tmp_path / "ca.crt"
    token_file.write_text(TOKEN)
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token_file))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca_file))
    with server_from_fixtures(token=TOKEN, ssl_context=context) as server:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
        result = collector.collect(Target("kubernetes", "in-cluster", {"in_cluster": True}))

    assert result.run.status is RunStatus.OK, result.run.error
    assert by_name(result.resources, "Cluster")["in-cluster"].attrs["in_cluster"] is True


def test_two_contexts_are_two_scopes(tmp_path, collector) -> None:
    from tests.kube import write_kubeconfig

    with server_from_fixtures(token="a") as one, KubeAPIServer(token="b") as two:
        path = write_kubeconfig(
            tmp_path / "kubeconfig", {"prod": (one.url, "a"), "staging": (two.url, "b")}, "prod"
        )
        prod = collector.collect(Target("kubernetes", "prod", {"kubeconfig": str(path)}))
        staging = collector.collect(Target("kubernetes", "staging", {"kubeconfig": str(path)}))

    assert {r.scope for r in prod.resources} == {"prod"}
    assert [r.kind for r in staging.resources] == ["Cluster"]  # an empty cluster
    assert staging.run.status is RunStatus.OK


def test_kubeconfig_as_a_path_object(kubeconfig: Path, collector) -> None:
    result = collector.collect(Target("kubernetes", CONTEXT, {"kubeconfig": kubeconfig}))

    assert result.run.status is RunStatus.OK, result.run.error


def test_kubeconfig_from_the_environment(kubeconfig: Path, collector, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))

    result = collector.collect(Target("kubernetes", CONTEXT))

    assert result.run.status is RunStatus.OK, result.run.error
