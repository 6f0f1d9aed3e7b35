"""Normalisers for the core kinds: Namespace, ServiceAccount, RBAC, Service, Ingress,
NetworkPolicy, admission webhooks and Secret (metadata only); see
:mod:`postureapp.facts.kubernetes` for what each writes."""

from __future__ import annotations

from typing import Any

from postureapp.collectors.kubernetes._shape import Obj, selector_of
from postureapp.facts.kubernetes import (
    IngressBackend,
    IngressPath,
    IngressTLS,
    LoadBalancerIngress,
    NetworkPolicyPeer,
    NetworkPolicyRule,
    PolicyRule,
    Webhook,
)

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
LEGACY_TOKEN_LAST_USED = "kubernetes.io/legacy-token-last-used"
LEGACY_TOKEN_INVALID_SINCE = "kubernetes.io/legacy-token-invalid-since"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"

SECRET_TYPES: tuple[str, ...] = (
    "Opaque",
    "kubernetes.io/service-account-token",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/tls",
    "kubernetes.io/basic-auth",
    "kubernetes.io/ssh-auth",
    "bootstrap.kubernetes.io/token",
)
OTHER_SECRET_TYPE = "other"


def namespace(obj: Obj) -> dict[str, Any]:
    labels = obj.obj("metadata").strmap("labels")
    pod_security = {}
    for mode in ("enforce", "audit", "warn"):
        pod_security[mode] = labels.get(f"{POD_SECURITY_PREFIX}{mode}")
        pod_security[f"{mode}_version"] = labels.get(f"{POD_SECURITY_PREFIX}{mode}-version")
    return {"phase": obj.obj("status").opt_str("phase"), "pod_security": pod_security}


def service_account(obj: Obj) -> dict[str, Any]:
    annotations = obj.obj("metadata").strmap("annotations")
    return {
        "automount_service_account_token": obj.opt_bool("automountServiceAccountToken"),
        "irsa_role_arn": annotations.get(IRSA_ANNOTATION) or None,
        "image_pull_secrets": obj.names("imagePullSecrets"),
        "secrets": obj.names("secrets"),
    }


def _rules(obj: Obj) -> list[PolicyRule]:
    return [
        {
            "api_groups": rule.strs("apiGroups"),
            "resources": rule.strs("resources"),
            "verbs": rule.strs("verbs"),
            "resource_names": rule.strs("resourceNames"),
            "non_resource_urls": rule.strs("nonResourceURLs"),
        }
        for rule in obj.objs("rules")
    ]


def role(obj: Obj) -> dict[str, Any]:
    return {"rules": _rules(obj)}


def cluster_role(obj: Obj) -> dict[str, Any]:
    aggregation = obj.opt_obj("aggregationRule")
    return {
        "rules": _rules(obj),
        "aggregation_rule": None
        if aggregation is None
        else {
            "cluster_role_selectors": [
                selector_of(sel) for sel in aggregation.objs("clusterRoleSelectors")
            ]
        },
    }


def binding(obj: Obj) -> dict[str, Any]:
    ref = obj.obj("roleRef")
    return {
        "role_ref": {
            "api_group": ref.opt_str("apiGroup"),
            "kind": ref.req_str("kind"),
            "name": ref.req_str("name"),
        },
        "subjects": [
            {
                "kind": subject.req_str("kind"),
                "name": subject.req_str("name"),
                "namespace": subject.opt_str("namespace") or None,
                "api_group": subject.opt_str("apiGroup") or None,
            }
            for subject in obj.objs("subjects")
        ],
    }


def lb_ingress(status: Obj) -> list[LoadBalancerIngress]:
    return [
        {"ip": item.opt_str("ip"), "hostname": item.opt_str("hostname")}
        for item in status.obj("loadBalancer").objs("ingress")
    ]


def service(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    ports = []
    for port in spec.objs("ports"):
        number = port.req_int("port")
        target = port.int_or_str("targetPort")
        ports.append(
            {
                "name": port.opt_str("name"),
                "protocol": port.text("protocol", "TCP"),
                "port": number,
                "target_port": number if target is None else target,
                "node_port": port.opt_int("nodePort"),
            }
        )
    return {
        "type": spec.opt_str("type") or "ClusterIP",
        "cluster_ip": spec.opt_str("clusterIP"),
        "external_ips": spec.strs("externalIPs"),
        "external_name": spec.opt_str("externalName"),
        "ports": ports,
        "selector": spec.strmap("selector"),
        "load_balancer_ingress": lb_ingress(obj.obj("status")),
        "load_balancer_source_ranges": spec.strs("loadBalancerSourceRanges"),
        "load_balancer_class": spec.opt_str("loadBalancerClass"),
        "external_traffic_policy": spec.opt_str("externalTrafficPolicy"),
    }


def _backend(backend: Obj) -> IngressBackend:
    service = backend.obj("service")
    port = service.obj("port")
    number = port.opt_int("number")
    resource = backend.opt_obj("resource")
    return {
        "service": service.opt_str("name"),
        "port": port.opt_str("name") if number is None else number,
        "resource": {"kind": resource.opt_str("kind"), "name": resource.opt_str("name")}
        if resource
        else None,
    }


def _host_covered(host: str, tls_hosts: set[str]) -> bool:
    if host in tls_hosts:
        return True
    _, _, parent = host.partition(".")
    return bool(parent) and f"*.{parent}" in tls_hosts


def ingress(obj: Obj) -> dict[str, Any]:
    meta = obj.obj("metadata")
    spec = obj.obj("spec")
    tls: list[IngressTLS] = [
        {"hosts": item.strs("hosts"), "secret_name": item.opt_str("secretName")}
        for item in spec.objs("tls")
    ]
    tls_hosts = {host for item in tls for host in item["hosts"]}
    paths: list[IngressPath] = []
    hosts = set()
    for rule in spec.objs("rules"):
        host = rule.opt_str("host") or "*"
        hosts.add(host)
        for path in rule.obj("http").objs("paths"):
            paths.append(
                {
                    "host": host,
                    "path": path.opt_str("path"),
                    "path_type": path.opt_str("pathType"),
                    "backend": _backend(path.obj("backend")),
                }
            )
    default = spec.opt_obj("defaultBackend")
    default_backend = _backend(default) if default else None
    backends = [p["backend"] for p in paths] + ([default_backend] if default_backend else [])
    return {
        "ingress_class": spec.opt_str("ingressClassName")
        or meta.strmap("annotations").get("kubernetes.io/ingress.class"),
        "hosts": sorted(hosts),
        "tls": tls,
        "tls_hosts": sorted(tls_hosts),
        "hosts_without_tls": sorted(h for h in hosts if not _host_covered(h, tls_hosts)),
        "paths": paths,
        "default_backend": default_backend,
        "backend_services": sorted({b["service"] for b in backends if b["service"]}),
        "load_balancer_ingress": lb_ingress(obj.obj("status")),
    }


def _peer(peer: Obj) -> NetworkPolicyPeer:
    block = peer.opt_obj("ipBlock")
    return {
        "pod_selector": peer.opt_selector("podSelector"),
        "namespace_selector": peer.opt_selector("namespaceSelector"),
        "ip_block": {"cidr": block.opt_str("cidr"), "except": block.strs("except")}
        if block
        else None,
    }


def _policy_rules(spec: Obj, key: str, peers_key: str) -> list[NetworkPolicyRule]:
    return [
        {
            "peers": [_peer(p) for p in rule.objs(peers_key)],
            "ports": [
                {
                    "protocol": port.text("protocol", "TCP"),
                    "port": port.int_or_str("port"),
                    "end_port": port.opt_int("endPort"),
                }
                for port in rule.objs("ports")
            ],
        }
        for rule in spec.objs(key)
    ]


def network_policy(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    pod_selector = spec.selector("podSelector")
    ingress_rules = _policy_rules(spec, "ingress", "from")
    egress_rules = _policy_rules(spec, "egress", "to")
    types = spec.strs("policyTypes") or ["Ingress"] + (["Egress"] if egress_rules else [])
    all_pods = not pod_selector["match_labels"] and not pod_selector["match_expressions"]
    return {
        "pod_selector": pod_selector,
        "selects_all_pods": all_pods,
        "policy_types": types,
        "ingress": ingress_rules,
        "egress": egress_rules,
        "default_deny_ingress": all_pods and "Ingress" in types and not ingress_rules,
        "default_deny_egress": all_pods and "Egress" in types and not egress_rules,
        "allows_all_ingress": "Ingress" in types
        and any(not rule["peers"] and not rule["ports"] for rule in ingress_rules),
    }


def _webhook(hook: Obj) -> Webhook:
    client = hook.obj("clientConfig")
    service = client.opt_obj("service")
    return {
        "name": hook.req_str("name"),
        "failure_policy": hook.opt_str("failurePolicy"),
        "side_effects": hook.opt_str("sideEffects"),
        "timeout_seconds": hook.opt_int("timeoutSeconds"),
        "match_policy": hook.opt_str("matchPolicy"),
        "reinvocation_policy": hook.opt_str("reinvocationPolicy"),
        "client": {
            "service": {
                "namespace": service.opt_str("namespace"),
                "name": service.opt_str("name"),
                "port": service.opt_int("port"),
                "path": service.opt_str("path"),
            }
            if service
            else None,
            "url": client.opt_str("url"),
        },
        "rules": [
            {
                "operations": rule.strs("operations"),
                "api_groups": rule.strs("apiGroups"),
                "api_versions": rule.strs("apiVersions"),
                "resources": rule.strs("resources"),
                "scope": rule.opt_str("scope"),
            }
            for rule in hook.objs("rules")
        ],
        "namespace_selector": hook.opt_selector("namespaceSelector"),
        "object_selector": hook.opt_selector("objectSelector"),
    }


def webhook_configuration(obj: Obj) -> dict[str, Any]:
    webhooks = [_webhook(hook) for hook in obj.objs("webhooks")]
    return {"webhook_names": [h["name"] for h in webhooks], "webhooks": webhooks}


def secret_type(value: str) -> str:
    return value if value in SECRET_TYPES else OTHER_SECRET_TYPE


def secret(obj: Obj) -> dict[str, Any]:
    # Only metadata and "type" are read here: data and stringData are never touched.
    meta = obj.obj("metadata")
    labels = meta.strmap("labels")
    kind = obj.opt_str("type")
    return {
        "type": None if kind is None else secret_type(kind),
        "legacy_token_last_used": labels.get(LEGACY_TOKEN_LAST_USED),
        "legacy_token_invalid_since": labels.get(LEGACY_TOKEN_INVALID_SINCE),
        "service_account": meta.strmap("annotations").get(SA_NAME_ANNOTATION),
    }
