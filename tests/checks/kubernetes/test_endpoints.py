"""Endpoint checks: exposure, admin UIs, network policies, mesh mTLS."""

from __future__ import annotations

from postureapp.model import Severity, Status, k8s_uid

from .estate import (
    SCOPE,
    cluster,
    container,
    inventory,
    k8s,
    namespace,
    netpol,
    peer_auth,
    pod,
    results,
    service,
    severity,
)

CLUSTER = k8s_uid(SCOPE, "Cluster", SCOPE)


def svc_uid(name: str, ns: str) -> str:
    return k8s_uid(SCOPE, "Service", name, ns)


def ns_uid(name: str) -> str:
    return k8s_uid(SCOPE, "Namespace", name)


LB_STATUS = {"loadBalancer": {"ingress": [{"hostname": "a1b2.elb.eu-west-1.amazonaws.com"}]}}


# -- services --------------------------------------------------------------------------


def test_load_balancer_high_medium_when_ranges_low_when_internal_clusterip_passes():
    inv = inventory(
        service("web", "shop", "LoadBalancer", status=LB_STATUS),
        service("partner", "shop", "LoadBalancer", loadBalancerSourceRanges=["198.51.100.0/24"]),
        service(
            "internal",
            "shop",
            "LoadBalancer",
            annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
        ),
        service("api", "shop"),
    )
    found = results("k8s-svc-loadbalancer", inv)
    web = found[svc_uid("web", "shop")]
    assert web.status is Status.FAIL
    assert severity("k8s-svc-loadbalancer", web) is Severity.HIGH
    assert "a1b2.elb.eu-west-1.amazonaws.com" in web.detail and "80/TCP" in web.detail
    partner = found[svc_uid("partner", "shop")]
    assert severity("k8s-svc-loadbalancer", partner) is Severity.MEDIUM
    assert "198.51.100.0/24" in partner.detail
    internal = found[svc_uid("internal", "shop")]
    assert severity("k8s-svc-loadbalancer", internal) is Severity.LOW
    assert found[svc_uid("api", "shop")].status is Status.PASS


def test_node_port_names_the_node_port():
    inv = inventory(
        service(
            "admin",
            "legacy",
            "NodePort",
            ports=[{"name": "admin", "port": 8081, "targetPort": 8081, "nodePort": 30081}],
        ),
        service("api", "legacy"),
    )
    found = results("k8s-svc-nodeport", inv)
    assert found[svc_uid("admin", "legacy")].status is Status.FAIL
    assert "30081" in found[svc_uid("admin", "legacy")].detail
    assert found[svc_uid("api", "legacy")].status is Status.PASS


def test_external_ips():
    inv = inventory(
        service("db", "legacy", externalIPs=["203.0.113.10"]),
        service("api", "legacy"),
    )
    found = results("k8s-svc-external-ips", inv)
    assert found[svc_uid("db", "legacy")].status is Status.FAIL
    assert found[svc_uid("db", "legacy")].evidence == {"external_ips": ["203.0.113.10"]}
    assert found[svc_uid("api", "legacy")].status is Status.PASS


def _ingress(name, ns, hosts, tls_hosts=(), backend="web"):
    rules = [
        {
            **({"host": host} if host != "*" else {}),
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": backend, "port": {"number": 80}}},
                    }
                ]
            },
        }
        for host in hosts
    ]
    spec = {"rules": rules}
    if tls_hosts:
        spec["tls"] = [{"hosts": list(tls_hosts), "secretName": f"{name}-tls"}]
    return k8s("Ingress", name, ns, spec=spec)


def test_ingress_hosts_without_tls_fail_covered_hosts_pass():
    inv = inventory(
        _ingress("admin", "legacy", ["admin.example.com", "*"]),
        _ingress("shop", "web", ["shop.example.com", "api.example.com"], ["*.example.com"]),
    )
    found = results("k8s-ingress-no-tls", inv)
    admin = found[k8s_uid(SCOPE, "Ingress", "admin", "legacy")]
    assert admin.status is Status.FAIL
    assert admin.evidence["hosts_without_tls"] == ["*", "admin.example.com"]
    assert found[k8s_uid(SCOPE, "Ingress", "shop", "web")].status is Status.PASS


# -- admin UIs -------------------------------------------------------------------------


def test_admin_ui_recognised_by_image_through_selector_and_exposed_by_load_balancer():
    inv = inventory(
        pod(
            "dash-5d4c3b2a1-a",
            "ops",
            deployment="dash",
            labels={"app": "dash"},
            containers=[container("ui", "docker.io/grafana/grafana:11.2.0")],
        ),
        service("dash", "ops", "LoadBalancer", selector={"app": "dash"}, status=LB_STATUS),
        service("other", "ops", selector={"app": "other"}),
    )
    found = results("k8s-admin-ui-exposed", inv)
    assert set(found) == {svc_uid("dash", "ops")}  # services that are not admin UIs: not judged
    dash = found[svc_uid("dash", "ops")]
    assert dash.status is Status.FAIL
    assert severity("k8s-admin-ui-exposed", dash) is Severity.CRITICAL
    assert (
        "Grafana" in dash.detail
        and "(recognised by image docker.io/grafana/grafana)" in dash.detail
    )
    assert "LoadBalancer a1b2.elb.eu-west-1.amazonaws.com" in dash.detail


def test_admin_ui_by_port_behind_an_ingress_and_by_name_behind_an_http_route():
    inv = inventory(
        pod(
            "logs-5d4c3b2a1-a",
            "ops",
            deployment="logs",
            labels={"app": "logs"},
            containers=[
                container(
                    "ui", "registry.example.com/ui:1", ports=[{"name": "ui", "containerPort": 5601}]
                )
            ],
        ),
        service("logs", "ops", selector={"app": "logs"}, ports=[{"port": 80, "targetPort": "ui"}]),
        _ingress("logs", "ops", ["logs.example.com"], ["logs.example.com"], backend="logs"),
        service("argocd-server", "argocd", ports=[{"name": "https", "port": 443}]),
        k8s(
            "HTTPRoute",
            "argocd",
            "gateway",
            spec={
                "rules": [
                    {"backendRefs": [{"name": "argocd-server", "namespace": "argocd", "port": 443}]}
                ]
            },
        ),
    )
    found = results("k8s-admin-ui-exposed", inv)
    logs = found[svc_uid("logs", "ops")]
    assert logs.status is Status.FAIL
    assert "Kibana (recognised by port 5601)" in logs.detail
    assert "Ingress ops/logs (logs.example.com)" in logs.detail
    argo = found[svc_uid("argocd-server", "argocd")]
    assert argo.status is Status.FAIL and "HTTPRoute gateway/argocd" in argo.detail


def test_admin_ui_reachable_only_inside_the_cluster_passes():
    inv = inventory(
        pod(
            "prometheus-0",
            "monitoring",
            owner=("StatefulSet", "prometheus"),
            labels={"app": "prometheus"},
            containers=[container("prometheus", "quay.io/prometheus/prometheus:v2.54.1")],
        ),
        service("metrics", "monitoring", selector={"app": "prometheus"}),
        service("admin-console", "legacy"),
    )
    found = results("k8s-admin-ui-exposed", inv)
    assert found[svc_uid("metrics", "monitoring")].status is Status.PASS
    assert found[svc_uid("metrics", "monitoring")].evidence["product"] == "Prometheus"
    assert found[svc_uid("admin-console", "legacy")].status is Status.PASS
    assert "reachable only inside the cluster" in found[svc_uid("admin-console", "legacy")].detail


# -- network policies ------------------------------------------------------------------

DENY = {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_namespace_without_network_policy_fails_system_namespaces_skipped():
    inv = inventory(
        namespace("shop"),
        namespace("pay"),
        namespace("kube-system"),
        netpol("default-deny", "pay", **DENY),
    )
    found = results("k8s-netpol-missing", inv)
    assert set(found) == {ns_uid("shop"), ns_uid("pay")}
    assert found[ns_uid("shop")].status is Status.FAIL
    assert found[ns_uid("pay")].status is Status.PASS


def test_default_deny_ingress_required_and_not_undone_by_allow_all():
    inv = inventory(
        namespace("pay"),
        namespace("legacy"),
        namespace("monitoring"),
        netpol("default-deny", "pay", **DENY),
        netpol("default-deny", "legacy", **DENY),
        netpol("allow-all", "legacy", podSelector={}, ingress=[{}]),
        netpol(
            "prom", "monitoring", podSelector={"matchLabels": {"app": "prometheus"}}, ingress=[{}]
        ),
    )
    found = results("k8s-netpol-default-deny", inv)
    assert found[ns_uid("pay")].status is Status.PASS
    legacy = found[ns_uid("legacy")]
    assert legacy.status is Status.FAIL
    assert "undone by allow-all" in legacy.detail
    assert found[ns_uid("monitoring")].status is Status.FAIL


# -- mesh ------------------------------------------------------------------------------


def _meshed(name: str) -> object:
    return namespace(name, **{"istio-injection": "enabled"})


def test_mesh_wide_permissive_fails_on_the_cluster_and_the_namespaces_inheriting_it():
    inv = inventory(
        cluster(istio=True),
        namespace("istio-system"),
        _meshed("shop"),
        _meshed("pay"),
        peer_auth("default", "istio-system", "PERMISSIVE"),
        peer_auth("strict", "pay", "STRICT"),
    )
    found = results("k8s-mesh-mtls", inv)
    assert found[CLUSTER].status is Status.FAIL
    assert "istio-system/default is PERMISSIVE" in found[CLUSTER].detail
    shop = found[ns_uid("shop")]
    assert shop.status is Status.FAIL and "inherited" in shop.detail
    assert found[ns_uid("pay")].status is Status.PASS
    assert ns_uid("istio-system") not in found  # the root's policy is the mesh verdict


def test_no_mesh_wide_policy_is_istio_default_permissive_and_disable_is_high():
    inv = inventory(
        cluster(istio=True),
        _meshed("shop"),
        peer_auth("off", "shop", "DISABLE"),
    )
    found = results("k8s-mesh-mtls", inv)
    assert "Istio's default is PERMISSIVE" in found[CLUSTER].detail
    assert severity("k8s-mesh-mtls", found[ns_uid("shop")]) is Severity.HIGH


def test_workload_level_permissive_makes_a_strict_namespace_partial():
    inv = inventory(
        cluster(istio=True),
        _meshed("pay"),
        peer_auth("default", "istio-system", "STRICT"),
        peer_auth("api-permissive", "pay", "PERMISSIVE", selector={"app": "api"}),
    )
    found = results("k8s-mesh-mtls", inv)
    assert found[CLUSTER].status is Status.PASS
    pay = found[ns_uid("pay")]
    assert pay.status is Status.FAIL
    assert "STRICT" in pay.detail and "pay/api-permissive (app=api): PERMISSIVE" in pay.detail


def test_namespace_with_pods_outside_the_mesh_fails():
    inv = inventory(
        cluster(istio=True),
        namespace("legacy"),
        peer_auth("default", "istio-system", "STRICT"),
        pod("app-5d4c3b2a1-a", "legacy", deployment="app"),
    )
    found = results("k8s-mesh-mtls", inv)
    assert found[ns_uid("legacy")].status is Status.FAIL
    assert "not in the mesh" in found[ns_uid("legacy")].detail


def test_mesh_mtls_unknown_when_discovery_could_not_tell_and_silent_without_istio():
    unknown = inventory(cluster(istio=None), _meshed("shop"))
    [result] = results("k8s-mesh-mtls", unknown).values()
    assert result.status is Status.UNKNOWN
    assert results("k8s-mesh-mtls", inventory(cluster(istio=False), _meshed("shop"))) == {}


def test_no_service_mesh_is_a_medium_finding_unknown_when_unknown():
    found = results("k8s-mesh-absent", inventory(cluster(istio=False), namespace("shop")))
    assert found[CLUSTER].status is Status.FAIL
    assert severity("k8s-mesh-absent", found[CLUSTER]) is Severity.MEDIUM
    assert "no service mesh" in found[CLUSTER].detail
    found = results("k8s-mesh-absent", inventory(cluster(istio=True), namespace("shop")))
    assert found[CLUSTER].status is Status.PASS
    found = results("k8s-mesh-absent", inventory(cluster(istio=None), namespace("shop")))
    assert found[CLUSTER].status is Status.UNKNOWN
    linkerd = inventory(
        cluster(istio=False),
        pod(
            "web-5d4c3b2a1-a",
            "shop",
            deployment="web",
            containers=[container(), container("linkerd-proxy")],
        ),
    )
    assert results("k8s-mesh-absent", linkerd)[CLUSTER].status is Status.UNKNOWN
