"""Estates for the test Kubernetes API server: the bundled fixtures and a generator.

The fixtures (``fixtures/*.yaml``, each a ``kind: List``) are a small, realistic
cluster: namespaces with Pod Security labels, IRSA service accounts, a binding to
cluster-admin, privileged and host-network pods, a literal password in an env var,
LoadBalancer and NodePort services, ingresses with and without TLS, a default-deny
network policy, admission webhooks, Gatekeeper, Istio (a PERMISSIVE PeerAuthentication)
and cert-manager. Every secret value is the canary :data:`CANARY_SECRET_B64` and the
literal env passwords are :data:`CANARY_ENV_VALUE`, so a test can search everything
postureapp stored or exported for them.

:func:`generate_cluster` builds a large synthetic cluster for benchmarks.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

CANARY_SECRET_VALUE = "CANARY-SECRET-VALUE-7f3a"
CANARY_SECRET_B64 = base64.b64encode(CANARY_SECRET_VALUE.encode()).decode()
CANARY_ENV_VALUE = "CANARY-ENV-PASSWORD-91c2"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"


def _documents(path: Path) -> Iterator[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        yield json.loads(text)
    else:
        yield from yaml.load_all(text, Loader=_Loader)


def load_objects(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Every object in these YAML/JSON files (``List`` documents are unpacked)."""
    objects: list[dict[str, Any]] = []
    for path in paths:
        for document in _documents(Path(path)):
            if not document:
                continue
            if document.get("kind", "").endswith("List") and "items" in document:
                objects.extend(document["items"] or [])
            else:
                objects.append(document)
    return objects


def fixture_files() -> list[Path]:
    return sorted(fixtures_dir().glob("*.yaml"))


def fixture_objects() -> list[dict[str, Any]]:
    """The bundled demo estate, as a fresh list of fresh dicts."""
    return load_objects(fixture_files())


# -- a large synthetic cluster ---------------------------------------------------------

_SECRET_TYPES = (
    ("Opaque", 50),
    ("kubernetes.io/tls", 15),
    ("kubernetes.io/dockerconfigjson", 10),
    ("kubernetes.io/service-account-token", 10),
    ("kubernetes.io/basic-auth", 5),
    ("kubernetes.io/ssh-auth", 3),
    ("helm.sh/release.v1", 7),
)
_SERVICE_TYPES = (("ClusterIP", 85), ("LoadBalancer", 8), ("NodePort", 7))
_VERB_SETS = (
    ["get", "list", "watch"],
    ["get", "list", "watch", "create", "update", "patch", "delete"],
    ["*"],
)


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _hash(rng: random.Random, length: int = 10) -> str:
    return "".join(rng.choices("bcdfghjklmnpqrstvwxz2456789", k=length))


def generate_cluster(
    *,
    namespaces: int = 200,
    pods: int = 10_000,
    service_accounts: int = 3_000,
    bindings: int = 5_000,
    secrets: int = 10_000,
    services: int = 2_000,
    seed: int = 0,
    created: str = "2025-01-01T00:00:00Z",
) -> list[dict[str, Any]]:
    """A deterministic synthetic cluster of about the given size.

    Pods come in groups of five replicas of a Deployment (owner ReplicaSet named
    ``<deployment>-<pod-template-hash>``); one Role per namespace and a few dozen
    ClusterRoles back the bindings; secrets and services follow a realistic type mix.
    """
    rng = random.Random(seed)
    canary = CANARY_SECRET_B64
    ns_names = [f"team-{index:03d}" for index in range(namespaces)]
    objects: list[dict[str, Any]] = []

    for index, name in enumerate(ns_names):
        labels = {"kubernetes.io/metadata.name": name, "team": f"team-{index % 40}"}
        level = ("restricted", "baseline", "privileged", None)[index % 4]
        if level:
            labels["pod-security.kubernetes.io/enforce"] = level
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": labels, "creationTimestamp": created},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        )

    sa_by_ns: dict[str, list[str]] = {name: [] for name in ns_names}
    for index in range(service_accounts):
        namespace = ns_names[index % namespaces]
        name = f"svc-{index:05d}"
        sa_by_ns[namespace].append(name)
        metadata: dict[str, Any] = {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": created,
            "labels": {"app": name},
        }
        if index % 5 == 0:
            metadata["annotations"] = {
                "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{namespace}-{name}"
            }
        sa: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}
        if index % 3 == 0:
            sa["automountServiceAccountToken"] = False
        objects.append(sa)

    cluster_roles = [f"platform-role-{index:02d}" for index in range(40)]
    for index, name in enumerate(cluster_roles):
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": name, "creationTimestamp": created},
                "rules": [
                    {
                        "apiGroups": ["", "apps"],
                        "resources": ["pods", "deployments", "configmaps"],
                        "verbs": _VERB_SETS[index % len(_VERB_SETS)],
                    },
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                ],
            }
        )
    for namespace in ns_names:
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {
                    "name": "app-reader",
                    "namespace": namespace,
                    "creationTimestamp": created,
                },
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": ["configmaps", "pods"],
                        "verbs": ["get", "list", "watch"],
                    },
                ],
            }
        )
    for index in range(bindings):
        namespace = ns_names[index % namespaces]
        subject_sa = (sa_by_ns[namespace] or ["default"])[index % max(1, len(sa_by_ns[namespace]))]
        subjects = [{"kind": "ServiceAccount", "name": subject_sa, "namespace": namespace}]
        if index % 10 == 0:
            objects.append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"crb-{index:05d}", "creationTimestamp": created},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "cluster-admin" if index % 500 == 0 else cluster_roles[index % 40],
                    },
                    "subjects": subjects,
                }
            )
            continue
        role_kind, role_name = (
            ("Role", "app-reader") if index % 3 else ("ClusterRole", cluster_roles[index % 40])
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {
                    "name": f"rb-{index:05d}",
                    "namespace": namespace,
                    "creationTimestamp": created,
                },
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": role_kind,
                    "name": role_name,
                },
                "subjects": subjects,
            }
        )

    for index in range(secrets):
        namespace = ns_names[index % namespaces]
        secret_type = _weighted(rng, _SECRET_TYPES)
        metadata = {
            "name": f"secret-{index:05d}",
            "namespace": namespace,
            "creationTimestamp": created,
            "labels": {"app": f"app-{index % 500}"},
        }
        if secret_type == "kubernetes.io/service-account-token":
            sa_name = (sa_by_ns[namespace] or ["default"])[0]
            metadata["annotations"] = {"kubernetes.io/service-account.name": sa_name}
            metadata["labels"]["kubernetes.io/legacy-token-last-used"] = "2024-06-01"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": secret_type,
                "metadata": metadata,
                "data": {"value": canary, "extra": canary},
            }
        )

    for index in range(services):
        namespace = ns_names[index % namespaces]
        service_type = _weighted(rng, _SERVICE_TYPES)
        spec: dict[str, Any] = {
            "type": service_type,
            "clusterIP": f"10.96.{index // 250}.{index % 250 + 1}",
            "selector": {"app": f"app-{index:05d}"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
        }
        status: dict[str, Any] = {"loadBalancer": {}}
        if service_type != "ClusterIP":
            spec["ports"][0]["nodePort"] = 30000 + index % 2000
        if service_type == "LoadBalancer":
            status["loadBalancer"] = {"ingress": [{"hostname": f"lb-{index}.elb.example.com"}]}
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": f"app-{index:05d}",
                    "namespace": namespace,
                    "creationTimestamp": created,
                },
                "spec": spec,
                "status": status,
            }
        )

    template_hash = ""
    deployment = ""
    for index in range(pods):
        namespace = ns_names[(index // 5) % namespaces]
        if index % 5 == 0:
            deployment = f"app-{index // 5:05d}"
            template_hash = _hash(rng)
        name = f"{deployment}-{template_hash}-{_hash(rng, 5)}"
        sa_name = (sa_by_ns[namespace] or ["default"])[
            (index // 5) % max(1, len(sa_by_ns[namespace]))
        ]
        privileged = index % 97 == 0
        image = f"registry.example.com/{namespace}/{deployment}:1.{index % 17}.0"
        secret_ref = f"secret-{index % secrets if secrets else 0:05d}"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "creationTimestamp": created,
                    "labels": {
                        "app": deployment,
                        "pod-template-hash": template_hash,
                        "team": f"team-{index % 40}",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": f"{deployment}-{template_hash}",
                            "uid": f"00000000-0000-4000-8000-{index // 5:012d}",
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "serviceAccountName": sa_name,
                    "nodeName": f"node-{index % 150:03d}",
                    "hostNetwork": index % 211 == 0,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "env": [
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "DB_HOST", "value": f"db.{namespace}.svc"},
                                {
                                    "name": "DB_PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {
                                            "name": secret_ref,
                                            "key": "value",
                                        }
                                    },
                                },
                                {
                                    "name": "POD_NAME",
                                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                },
                            ],
                            "securityContext": {
                                "privileged": privileged,
                                "allowPrivilegeEscalation": privileged,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        },
                        {
                            "name": "istio-proxy",
                            "image": "docker.io/istio/proxyv2:1.22.3",
                            "ports": [
                                {
                                    "name": "http-envoy-prom",
                                    "containerPort": 15090,
                                    "protocol": "TCP",
                                }
                            ],
                            "securityContext": {
                                "runAsUser": 1337,
                                "runAsNonRoot": True,
                                "allowPrivilegeEscalation": False,
                            },
                        },
                    ],
                    "volumes": [
                        {
                            "name": f"kube-api-access-{_hash(rng, 5)}",
                            "projected": {
                                "sources": [
                                    {
                                        "serviceAccountToken": {
                                            "expirationSeconds": 3607,
                                            "path": "token",
                                        }
                                    },
                                    {
                                        "configMap": {
                                            "name": "kube-root-ca.crt",
                                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                        }
                                    },
                                ]
                            },
                        },
                        {"name": "config", "configMap": {"name": f"{deployment}-config"}},
                    ],
                },
                "status": {"phase": "Running", "podIP": f"10.1.{index // 250 % 250}.{index % 250}"},
            }
        )
        if index % 5 == 0:
            objects.extend(_controllers(objects[-1], deployment, template_hash, created))
    return objects


def _controllers(
    pod: dict[str, Any], deployment: str, template_hash: str, created: str
) -> list[dict[str, Any]]:
    """A pod's Deployment and ReplicaSet, whose template is the pod's spec (shared, not
    copied: the server keeps references, so a large estate costs no more memory)."""
    namespace = pod["metadata"]["namespace"]
    labels = {"app": deployment}
    template = {"metadata": {"labels": dict(pod["metadata"]["labels"])}, "spec": pod["spec"]}
    spec = {"replicas": 5, "selector": {"matchLabels": labels}, "template": template}
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment,
        "uid": f"d0000000-0000-4000-8000-{deployment.removeprefix('app-'):0>12}",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": deployment,
                "namespace": namespace,
                "creationTimestamp": created,
                "labels": labels,
            },
            "spec": spec,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{deployment}-{template_hash}",
                "namespace": namespace,
                "creationTimestamp": created,
                "labels": {**labels, "pod-template-hash": template_hash},
                "ownerReferences": [owner],
            },
            "spec": spec,
        },
    ]
