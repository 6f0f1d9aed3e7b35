"""The demo's Kubernetes cluster: several teams' services, done right and wrong.

* ``payments`` is what good looks like: one service account per service with IRSA to
  a narrowly scoped role, no automounted token, default-deny network policy, mTLS
  STRICT, Pod Security ``restricted`` enforced.
* ``shop``: two services share one service account, a third runs as ``default``, a
  password sits literally in an env var, and its secrets are over a year old.
* ``platform``: Argo CD's server runs as a service account bound to cluster-admin and is
  exposed by a LoadBalancer; Grafana is on a NodePort.
* ``data``: ``reports-ui`` is internet-facing and shares its service account with the
  ETL worker; that account assumes an IAM role with AdministratorAccess.
* The mesh is left PERMISSIVE mesh-wide.
* Resilience: payments' Ingress is rate-limited and re-encrypts to its pods, with a
  circuit breaker and a disruption budget; shop's Ingress and LoadBalancer have
  neither. A Fluent Bit DaemonSet ships logs; nothing collects traces.

Every secret value is a canary (never real), so tests can prove none is stored.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from postureapp.demo.aws_estate import role_arn
from postureapp.model import isoformat

CANARY = base64.b64encode(b"DEMO-CANARY-SECRET-d3m0").decode()


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def namespace(name: str, team: str, enforce: str | None = None) -> dict[str, Any]:
    labels = {"team": team, "kubernetes.io/metadata.name": name}
    if enforce:
        labels["pod-security.kubernetes.io/enforce"] = enforce
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, labels=labels)}


def service_account(name: str, ns: str, role: str | None = None, automount: bool | None = None):
    annotations = {"eks.amazonaws.com/role-arn": role_arn(role)} if role else {}
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(name, ns, annotations=annotations),
    }
    if automount is not None:
        obj["automountServiceAccountToken"] = automount
    return obj


def pod(
    app: str,
    ns: str,
    sa: str,
    image: str,
    port: int,
    *,
    replica: str = "0",
    env: list[dict[str, str]] | None = None,
    privileged: bool = False,
    automount: bool | None = None,
) -> list[dict[str, Any]]:
    """A Deployment, its ReplicaSet and one of its pods, owner references as a cluster
    has; the controllers carry the pod's template, as the checks judge them too."""
    template_hash = "7d9f8b6c4"
    rs_name = f"{app}-{template_hash}"
    pod_obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            f"{rs_name}-x{replica}k2p",
            ns,
            labels={"app": app, "pod-template-hash": template_hash},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": f"rs-{ns}-{app}",
                    "controller": True,
                }
            ],
        ),
        "spec": {
            "serviceAccountName": sa,
            "containers": [
                {
                    "name": app,
                    "image": image,
                    "ports": [{"containerPort": port, "protocol": "TCP"}],
                    "env": env or [],
                    "securityContext": {"privileged": privileged},
                }
            ],
        },
        "status": {"phase": "Running"},
    }
    if automount is not None:
        pod_obj["spec"]["automountServiceAccountToken"] = automount
    template = {"metadata": {"labels": {"app": app}}, "spec": dict(pod_obj["spec"])}
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": _meta(
            rs_name,
            ns,
            labels={"app": app},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": app,
                    "uid": f"deploy-{ns}-{app}",
                    "controller": True,
                }
            ],
        ),
        "spec": {"selector": {"matchLabels": {"app": app}}, "template": template},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(app, ns, labels={"app": app}),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}}, "template": template},
    }
    return [deployment, replica_set, pod_obj]


# A load balancer the demo really serves: (address, port, port name), see Endpoints.
Served = tuple[str, int, str]
Endpoints = dict[str, Served]  # Service name -> what its load balancer answers on


def service(
    name: str,
    ns: str,
    app: str,
    port: int,
    kind: str = "ClusterIP",
    lb_host: str | None = None,
    served: Served | None = None,
) -> dict[str, Any]:
    port_name = served[2] if served else "http"
    port = served[1] if served else port
    spec: dict[str, Any] = {
        "type": kind,
        "selector": {"app": app},
        "ports": [{"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"}],
    }
    if kind == "NodePort":
        spec["ports"][0]["nodePort"] = 30000 + port % 2000
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, ns),
        "spec": spec,
        "status": {},
    }
    if kind == "LoadBalancer":
        # A served load balancer answers on a local address the probe can reach.
        address = {"ip": served[0]} if served else {"hostname": lb_host or f"{name}.elb.demo"}
        obj["status"] = {"loadBalancer": {"ingress": [address]}}
    return obj


def secret(
    name: str, ns: str, created: datetime, kind: str = "Opaque", owner: str = "", **labels: str
):
    annotations = {"kubernetes.io/service-account.name": owner} if owner else {}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": kind,
        "metadata": _meta(
            name, ns, creationTimestamp=isoformat(created), labels=labels, annotations=annotations
        ),
        "data": {"value": CANARY},
    }


def binding(name: str, role: str, subjects: list[tuple[str, str]], ns: str | None = None):
    kind = "RoleBinding" if ns else "ClusterRoleBinding"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, ns),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole" if not ns or role.startswith("cluster") else "Role",
            "name": role,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": sa, "namespace": sa_ns} for sa_ns, sa in subjects
        ],
    }


def cluster_objects(now: datetime, served: Endpoints | None = None) -> list[dict[str, Any]]:
    """The whole demo cluster as API objects; ``served`` puts the named LoadBalancer
    Services on the demo's local HTTP(S) servers, for the probe."""
    served = served or {}
    old = now - timedelta(days=420)
    objects: list[dict[str, Any]] = [
        namespace("payments", "payments", enforce="restricted"),
        namespace("shop", "shop"),
        namespace("platform", "platform"),
        namespace("data", "data", enforce="baseline"),
        namespace("istio-system", "platform"),
        # payments: one identity per service, least privilege
        service_account("payments-api", "payments", role="payments-api", automount=False),
        *pod(
            "payments-api",
            "payments",
            "payments-api",
            "registry.demo/payments/api:3.4.1",
            8443,
            automount=False,
        ),
        service("payments-api", "payments", "payments-api", 8443),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("default-deny", "payments"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": _meta("strict", "payments"),
            "spec": {"mtls": {"mode": "STRICT"}},
        },
        *payments_resilience(),
        *fluent_bit_node_agent(),
        # shop: shared and default identities, a literal password, stale secrets
        service_account("shop-backend", "shop"),
        *pod("checkout", "shop", "shop-backend", "registry.demo/shop/checkout:2.1.0", 8080),
        *pod(
            "cart",
            "shop",
            "shop-backend",
            "registry.demo/shop/cart:1.9.3",
            8080,
            env=[
                {"name": "REDIS_PASSWORD", "value": "DEMO-CANARY-ENV-pa55"},
                {"name": "LOG_LEVEL", "value": "info"},
            ],
        ),
        *pod("catalog", "shop", "default", "registry.demo/shop/catalog:5.0.2", 8080),
        service(
            "storefront",
            "shop",
            "checkout",
            443,
            "LoadBalancer",
            lb_host="shop-public-1234.eu-west-1.elb.amazonaws.com",
            served=served.get("storefront"),
        ),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta("shop", "shop"),
            "spec": {
                "rules": [
                    {
                        "host": "shop.demo.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "storefront", "port": {"number": 443}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
        secret("shop-db", "shop", old),
        secret("stripe-webhook", "shop", old),
        secret(
            "shop-backend-token",
            "shop",
            old,
            kind="kubernetes.io/service-account-token",
            **{
                "kubernetes.io/legacy-token-last-used": (now - timedelta(days=3)).date().isoformat()
            },
        ),
        # platform: an admin UI exposed, bound to cluster-admin
        service_account("argocd-server", "platform"),
        *pod("argocd-server", "platform", "argocd-server", "quay.io/argoproj/argocd:v2.13.1", 8080),
        service(
            "argocd-server",
            "platform",
            "argocd-server",
            80,
            "LoadBalancer",
            lb_host="argocd-public-5678.eu-west-1.elb.amazonaws.com",
            served=served.get("argocd-server"),
        ),
        argocd_admin_binding(),
        service_account("grafana", "platform"),
        *pod("grafana", "platform", "grafana", "grafana/grafana:11.3.0", 3000),
        service("grafana", "platform", "grafana", 3000, "NodePort"),
        # data: an exposed UI sharing an identity that is an AWS administrator
        service_account("etl", "data", role="data-pipeline"),
        *pod("etl-worker", "data", "etl", "registry.demo/data/etl:0.9.0", 9000),
        *pod("reports-ui", "data", "etl", "registry.demo/data/reports:0.4.2", 8080),
        service(
            "reports-ui",
            "data",
            "reports-ui",
            443,
            "LoadBalancer",
            lb_host="reports-9012.eu-west-1.elb.amazonaws.com",
            served=served.get("reports-ui"),
        ),
        binding("etl-secrets", "secret-reader", [("data", "etl")], ns="data"),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("secret-reader", "data"),
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}
            ],
        },
        # the mesh: PERMISSIVE everywhere but payments
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": _meta("default", "istio-system"),
            "spec": {"mtls": {"mode": "PERMISSIVE"}},
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": _meta("shop-tls", "shop"),
            "spec": {
                "secretName": "shop-tls",
                "dnsNames": ["shop.demo.example.com"],
                "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
            },
            "status": {"notAfter": isoformat(now + timedelta(days=9))},
        },
    ]
    return objects


def payments_resilience() -> list[dict[str, Any]]:
    """payments' entry point done right: a rate-limited, re-encrypting Ingress, a circuit
    breaker (outlier detection and connection-pool limits) and a disruption budget."""
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta(
                "payments",
                "payments",
                annotations={
                    "nginx.ingress.kubernetes.io/limit-rps": "20",
                    "nginx.ingress.kubernetes.io/limit-connections": "10",
                    "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
                },
            ),
            "spec": {
                "tls": [{"hosts": ["pay.demo.example.com"], "secretName": "payments-tls"}],
                "rules": [
                    {
                        "host": "pay.demo.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": "payments-api",
                                            "port": {"number": 8443},
                                        }
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "DestinationRule",
            "metadata": _meta("payments-api", "payments"),
            "spec": {
                "host": "payments-api.payments.svc.cluster.local",
                "trafficPolicy": {
                    "tls": {"mode": "ISTIO_MUTUAL"},
                    "connectionPool": {
                        "tcp": {"maxConnections": 200},
                        "http": {"http1MaxPendingRequests": 100},
                    },
                    "outlierDetection": {
                        "consecutive5xxErrors": 5,
                        "interval": "10s",
                        "baseEjectionTime": "30s",
                    },
                },
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta("payments-api", "payments"),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "payments-api"}}},
        },
    ]


def fluent_bit_node_agent() -> list[dict[str, Any]]:
    """Central logging: a Fluent Bit DaemonSet and its pod (and no tracing anywhere)."""
    pod_obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            "fluent-bit-7xk2p",
            "kube-system",
            labels={"app.kubernetes.io/name": "fluent-bit"},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": "fluent-bit",
                    "controller": True,
                }
            ],
        ),
        "spec": {
            "serviceAccountName": "fluent-bit",
            "containers": [
                {
                    "name": "fluent-bit",
                    "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
                }
            ],
        },
        "status": {"phase": "Running"},
    }
    labels = {"app.kubernetes.io/name": "fluent-bit"}
    daemon_set = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta("fluent-bit", "kube-system", labels=labels),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": dict(pod_obj["spec"])},
        },
    }
    return [daemon_set, pod_obj]


def argocd_admin_binding() -> dict[str, Any]:
    """Argo CD's server bound to cluster-admin (the story removes it, then an old Helm
    chart brings it back)."""
    return binding("argocd-server-admin", "cluster-admin", [("platform", "argocd-server")])


def grafana_goes_public(served: Served | None = None) -> dict[str, Any]:
    """Someone 'temporarily' puts Grafana behind a load balancer."""
    return service(
        "grafana-public",
        "platform",
        "grafana",
        80,
        "LoadBalancer",
        lb_host="grafana-3456.eu-west-1.elb.amazonaws.com",
        served=served,
    )
