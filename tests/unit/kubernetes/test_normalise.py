"""Normalisers: Kubernetes JSON in, the documented attrs out."""

from __future__ import annotations

import json

import pytest

from postureapp.collectors.kubernetes.kinds import ALL_KINDS
from postureapp.collectors.kubernetes.normalise import (
    NORMALISERS,
    MalformedObject,
    normalise,
    secret_hint,
)


def attrs(kind: str, obj: dict, api_version: str = "v1") -> dict:
    return normalise("ctx", kind, obj, api_version).attrs


def meta(name: str = "x", namespace: str | None = "ns", **extra) -> dict:
    data = {"name": name, **extra}
    if namespace:
        data["namespace"] = namespace
    return data


def test_every_collected_kind_has_a_normaliser() -> None:
    assert {spec.kind for spec in ALL_KINDS} == set(NORMALISERS)


def test_common_attrs_uid_and_dropped_annotation() -> None:
    resource = normalise(
        "prod",
        "ServiceAccount",
        {
            "metadata": meta(
                "api",
                "shop",
                uid="u-1",
                creationTimestamp="2024-05-01T10:00:00+00:00",
                labels={"app": "api", "version": "3"},
                annotations={
                    "kubectl.kubernetes.io/last-applied-configuration": '{"data": "s3cr3t"}',
                    "owner": "team-a",
                },
                ownerReferences=[{"kind": "Thing", "name": "t", "apiVersion": "x/v1"}],
            )
        },
        "v1",
    )
    assert resource.uid == "k8s://prod/shop/ServiceAccount/api"
    assert resource.created_at == "2024-05-01T10:00:00Z"
    assert resource.attrs["labels"] == {"app": "api", "version": "3"}
    assert resource.attrs["annotations"] == {"owner": "team-a"}
    assert resource.attrs["object_uid"] == "u-1"
    assert resource.attrs["owner_references"] == [
        {"kind": "Thing", "name": "t", "api_version": "x/v1", "controller": False}
    ]
    assert "s3cr3t" not in json.dumps(resource.to_dict())


def test_cluster_scoped_uid() -> None:
    resource = normalise("prod", "ClusterRole", {"metadata": meta("admin", None)}, "v1")
    assert resource.uid == "k8s://prod/_/ClusterRole/admin" and resource.namespace == ""


@pytest.mark.parametrize("obj", [None, "text", {}, {"metadata": {}}, {"metadata": "x"}])
def test_malformed_objects(obj) -> None:
    with pytest.raises(MalformedObject):
        normalise("ctx", "Pod", obj, "v1")


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("DB_PASSWORD", "correct-horse-battery", "secret-like-name"),
        ("api_key", "9f8e7d6c5b4a", "secret-like-name"),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
        ("CONFIG", "-----BEGIN RSA PRIVATE KEY-----\nMII", "private-key"),
        ("SESSION", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "jwt"),
        ("DATABASE_URL", "postgres://user:pw@db:5432/x", "url-credentials"),
        ("GH", "ghp_" + "a" * 36, "github-token"),
        ("NOTIFY", "xoxb-1234567890-abcdef", "slack-token"),
        ("DB_PASSWORD_FILE", "/run/secrets/db", None),
        ("TOKEN_URL", "https://auth.example/token", None),
        ("AUTH_ENABLED", "true", None),
        ("TOKEN_TTL", "3600", None),
        ("SECRET_NAME", "my-secret", None),
        ("PASSWORD", "", None),
        ("PASSWORD", "$(DB_PASS)", None),
        ("LOG_LEVEL", "debug", None),
        ("DATABASE_URL", "postgres://db:5432/x", None),
    ],
)
def test_secret_hint(name: str, value: str, hint: str | None) -> None:
    assert secret_hint(name, value) == hint


def _pod(**spec) -> dict:
    return {
        "metadata": meta(
            "web-5c8d7f9b4-abcd1",
            labels={"pod-template-hash": "5c8d7f9b4"},
            ownerReferences=[
                {
                    "kind": "ReplicaSet",
                    "name": "web-5c8d7f9b4",
                    "controller": True,
                    "apiVersion": "apps/v1",
                }
            ],
        ),
        "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec},
    }


def test_pod_workload_inference() -> None:
    assert attrs("Pod", _pod())["workload"] == {
        "kind": "Deployment",
        "name": "web",
        "inferred": True,
    }
    standalone = _pod()
    standalone["metadata"]["labels"] = {}
    assert attrs("Pod", standalone)["workload"] == {
        "kind": "ReplicaSet",
        "name": "web-5c8d7f9b4",
        "inferred": False,
    }
    job = {
        "metadata": meta("j-1", ownerReferences=[{"kind": "Job", "name": "j", "controller": True}]),
        "spec": {"containers": []},
    }
    assert attrs("Pod", job)["workload"] == {"kind": "Job", "name": "j", "inferred": False}
    bare = {"metadata": meta("debug"), "spec": {"containers": []}}
    assert attrs("Pod", bare)["workload"] == {"kind": "Pod", "name": "debug", "inferred": False}
    assert (
        attrs("Pod", bare)["owner"] is None and attrs("Pod", bare)["service_account"] == "default"
    )


def test_pod_security_and_references() -> None:
    pod = _pod(
        hostNetwork=True,
        automountServiceAccountToken=False,
        imagePullSecrets=[{"name": "pull"}],
        initContainers=[
            {
                "name": "init",
                "image": "busybox",
                "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
            }
        ],
        volumes=[
            {"name": "host", "hostPath": {"path": "/var/run/docker.sock"}},
            {"name": "certs", "secret": {"secretName": "tls"}},
            {
                "name": "irsa",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"audience": "sts.amazonaws.com", "path": "token"}}
                    ]
                },
            },
            {"name": "mixed", "projected": {"sources": [{"secret": {"name": "projected"}}]}},
        ],
    )
    pod["spec"]["containers"][0].update(
        securityContext={"privileged": True, "runAsUser": 0},
        ports=[{"containerPort": 80, "hostPort": 8080}],
        env=[
            {"name": "PASSWORD", "value": "hunter2hunter2"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "t"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        envFrom=[{"secretRef": {"name": "env"}}, {"configMapRef": {"name": "cfg"}}],
    )
    result = attrs("Pod", pod)
    assert result["host_network"] and result["privileged"] and result["host_ports"] == [8080]
    assert result["automount_service_account_token"] is False
    assert result["service_account_token_mounted"] is False  # IRSA's token is for STS only
    assert [c["type"] for c in result["containers"]] == ["init", "container"]
    assert result["containers"][0]["capabilities"] == {"add": ["NET_ADMIN"], "drop": []}
    app = result["containers"][1]
    assert app["privileged"] and app["run_as_user"] == 0
    assert app["allow_privilege_escalation"] is None
    assert app["env"] == [
        {
            "name": "PASSWORD",
            "source": "value",
            "secret": None,
            "looks_secret": True,
            "secret_hint": "secret-like-name",
        },
        {
            "name": "TOKEN",
            "source": "secretKeyRef",
            "secret": {"name": "tok", "key": "t"},
            "looks_secret": False,
            "secret_hint": None,
        },
        {
            "name": "NODE",
            "source": "fieldRef",
            "secret": None,
            "looks_secret": False,
            "secret_hint": None,
        },
    ]
    assert app["env_from"] == [
        {"kind": "Secret", "name": "env"},
        {"kind": "ConfigMap", "name": "cfg"},
    ]
    assert result["secret_refs"] == ["env", "projected", "pull", "tls", "tok"]
    assert result["volumes"][0] == {
        "name": "host",
        "type": "hostPath",
        "source": "/var/run/docker.sock",
        "service_account_token": False,
        "token_audiences": [],
    }
    assert result["volumes"][2]["token_audiences"] == ["sts.amazonaws.com"]
    assert "hunter2hunter2" not in json.dumps(result)


def test_secret_normaliser_never_reads_data() -> None:
    class Guarded(dict):
        def __getitem__(self, key):
            assert key not in ("data", "stringData"), f"read {key}"
            return super().__getitem__(key)

        def get(self, key, default=None):
            assert key not in ("data", "stringData"), f"read {key}"
            return super().get(key, default)

    secret = Guarded(
        metadata=meta("s", labels={"kubernetes.io/legacy-token-last-used": "2024-01-15"}),
        type="kubernetes.io/service-account-token",
        data={"token": "c2VjcmV0"},
        stringData={"token": "secret"},
    )
    result = attrs("Secret", secret)
    assert result["type"] == "kubernetes.io/service-account-token"
    assert result["legacy_token_last_used"] == "2024-01-15"
    assert attrs("Secret", {"metadata": meta("s"), "type": "helm.sh/release.v1"})["type"] == (
        "other"
    )
    assert attrs("Secret", {"metadata": meta("s")})["type"] is None  # live: filled in later


def test_network_policy_semantics() -> None:
    deny = attrs("NetworkPolicy", {"metadata": meta(), "spec": {"podSelector": {}}})
    assert deny["policy_types"] == ["Ingress"] and deny["default_deny_ingress"]
    assert not deny["default_deny_egress"] and not deny["allows_all_ingress"]
    egress_only = attrs(
        "NetworkPolicy",
        {"metadata": meta(), "spec": {"podSelector": {}, "egress": [{"to": []}]}},
    )
    assert egress_only["policy_types"] == ["Ingress", "Egress"]
    allow_all = attrs(
        "NetworkPolicy", {"metadata": meta(), "spec": {"podSelector": {}, "ingress": [{}]}}
    )
    assert allow_all["allows_all_ingress"] and not allow_all["default_deny_ingress"]
    scoped = attrs(
        "NetworkPolicy",
        {
            "metadata": meta(),
            "spec": {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"]},
        },
    )
    assert not scoped["selects_all_pods"] and scoped["default_deny_egress"] is False
    assert scoped["pod_selector"] == {"match_labels": {"app": "a"}, "match_expressions": []}


def test_ingress_hosts_and_tls() -> None:
    result = attrs(
        "Ingress",
        {
            "metadata": meta(annotations={"kubernetes.io/ingress.class": "traefik"}),
            "spec": {
                "tls": [{"hosts": ["*.example.com"], "secretName": "wild"}],
                "rules": [
                    {
                        "host": "a.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "a", "port": {"number": 80}}},
                                }
                            ]
                        },
                    },
                    {"host": "other.test"},
                ],
                "defaultBackend": {"resource": {"kind": "Bucket", "name": "static"}},
            },
        },
        "networking.k8s.io/v1",
    )
    assert result["ingress_class"] == "traefik"
    assert result["hosts"] == ["a.example.com", "other.test"]
    assert result["hosts_without_tls"] == ["other.test"]
    assert result["backend_services"] == ["a"]
    assert result["default_backend"] == {
        "service": None,
        "port": None,
        "resource": {"kind": "Bucket", "name": "static"},
    }


def test_service_defaults() -> None:
    result = attrs(
        "Service", {"metadata": meta(), "spec": {"ports": [{"port": 53, "protocol": "UDP"}]}}
    )
    assert result["type"] == "ClusterIP" and result["selector"] == {}
    assert result["ports"] == [
        {"name": None, "protocol": "UDP", "port": 53, "target_port": 53, "node_port": None}
    ]


def test_rbac() -> None:
    role = attrs(
        "ClusterRole",
        {
            "metadata": meta("agg", None),
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
        },
    )
    assert role["rules"] == []
    assert role["aggregation_rule"] == {
        "cluster_role_selectors": [{"match_labels": {"a": "b"}, "match_expressions": []}]
    }
    binding = attrs(
        "RoleBinding",
        {
            "metadata": meta(),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [
                {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        },
    )
    assert binding["subjects"] == [
        {
            "kind": "Group",
            "name": "devs",
            "namespace": None,
            "api_group": "rbac.authorization.k8s.io",
        }
    ]


def test_webhook_configuration_drops_ca_bundle() -> None:
    result = attrs(
        "ValidatingWebhookConfiguration",
        {
            "metadata": meta("v", None),
            "webhooks": [
                {
                    "name": "a.example.com",
                    "failurePolicy": "Ignore",
                    "sideEffects": "None",
                    "clientConfig": {"url": "https://hook.example/validate", "caBundle": "Q0E="},
                }
            ],
        },
        "admissionregistration.k8s.io/v1",
    )
    assert result["webhook_names"] == ["a.example.com"]
    assert result["webhooks"][0]["client"] == {
        "service": None,
        "url": "https://hook.example/validate",
    }
    assert "Q0E=" not in json.dumps(result)


def test_istio_kinds() -> None:
    pa = attrs("PeerAuthentication", {"metadata": meta(), "spec": {}}, "security.istio.io/v1")
    assert pa == {**pa, "selector": None, "mtls_mode": "UNSET", "port_level_mtls": {}}
    ap = attrs(
        "AuthorizationPolicy",
        {"metadata": meta(), "spec": {"selector": {"matchLabels": {"app": "a"}}}},
        "security.istio.io/v1",
    )
    assert ap["action"] == "ALLOW" and ap["rule_count"] == 0 and ap["selector"] == {"app": "a"}
    dr = attrs(
        "DestinationRule",
        {
            "metadata": meta(),
            "spec": {
                "host": "db",
                "trafficPolicy": {
                    "portLevelSettings": [{"port": {"number": 5432}, "tls": {"mode": "DISABLE"}}]
                },
                "subsets": [{"name": "v1", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}],
            },
        },
        "networking.istio.io/v1",
    )
    assert dr["tls_mode"] is None and dr["port_level_tls"] == {"5432": "DISABLE"}
    assert dr["subsets"] == [{"name": "v1", "tls_mode": "ISTIO_MUTUAL", "circuit_breaking": False}]


def test_gateway_api_kinds() -> None:
    gateway = attrs(
        "Gateway",
        {
            "metadata": meta(),
            "spec": {
                "gatewayClassName": "eg",
                "listeners": [
                    {
                        "name": "https",
                        "protocol": "HTTPS",
                        "port": 443,
                        "hostname": "*.example.com",
                        "tls": {"mode": "Terminate", "certificateRefs": [{"name": "wild"}]},
                        "allowedRoutes": {"namespaces": {"from": "All"}},
                    }
                ],
            },
            "status": {"addresses": [{"type": "IPAddress", "value": "203.0.113.5"}]},
        },
        "gateway.networking.k8s.io/v1",
    )
    assert gateway["listeners"][0]["certificate_refs"] == [
        {"kind": "Secret", "name": "wild", "namespace": None}
    ]
    assert gateway["listeners"][0]["allowed_routes_from"] == "All"
    assert gateway["addresses"] == ["203.0.113.5"]
    route = attrs(
        "HTTPRoute",
        {
            "metadata": meta(),
            "spec": {
                "hostnames": ["a.example.com"],
                "parentRefs": [{"name": "gw"}],
                "rules": [{"backendRefs": [{"name": "svc", "port": 8080}]}, {}],
            },
        },
        "gateway.networking.k8s.io/v1",
    )
    assert route["backends"] == [
        {"kind": "Service", "name": "svc", "namespace": None, "port": 8080}
    ]
    assert route["rule_count"] == 2 and route["parent_refs"][0]["kind"] == "Gateway"


def test_policy_engines_and_certificates() -> None:
    template = attrs(
        "ConstraintTemplate",
        {
            "metadata": meta("t", None),
            "spec": {
                "crd": {"spec": {"names": {"kind": "K8sX"}}},
                "targets": [{"target": "admission.k8s.gatekeeper.sh"}],
            },
        },
        "templates.gatekeeper.sh/v1",
    )
    assert template["constraint_kind"] == "K8sX" and template["created"] is None
    policy = attrs(
        "ClusterPolicy",
        {
            "metadata": meta("p", None),
            "spec": {
                "rules": [
                    {"name": "r", "validate": {"failureAction": "Enforce"}},
                    {"name": "m", "mutate": {}},
                ]
            },
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
        "kyverno.io/v1",
    )
    assert policy["rules"] == [
        {"name": "r", "types": ["validate"], "failure_action": "Enforce"},
        {"name": "m", "types": ["mutate"], "failure_action": None},
    ]
    assert policy["ready"] is True and policy["validation_failure_action"] is None
    cert = attrs(
        "Certificate",
        {
            "metadata": meta(),
            "spec": {"secretName": "s", "issuerRef": {"name": "i"}},
            "status": {
                "notAfter": "2025-01-01T00:00:00Z",
                "conditions": [{"type": "Ready", "status": "False"}],
            },
        },
        "cert-manager.io/v1",
    )
    assert cert["not_after"] == "2025-01-01T00:00:00Z" and cert["ready"] is False
    assert cert["issuer_ref"] == {"name": "i", "kind": "Issuer", "group": "cert-manager.io"}


def test_namespace_pod_security() -> None:
    result = attrs(
        "Namespace",
        {"metadata": meta("n", None, labels={"pod-security.kubernetes.io/warn": "restricted"})},
    )
    assert result["pod_security"] == {
        "enforce": None,
        "enforce_version": None,
        "audit": None,
        "audit_version": None,
        "warn": "restricted",
        "warn_version": None,
    }
