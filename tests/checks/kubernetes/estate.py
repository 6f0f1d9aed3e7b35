"""Small hand-built Kubernetes inventories for the check tests.

Objects are written as the API serves them and turned into resources by the real
normaliser, so the tests read exactly the attrs the collector contract documents
(:mod:`postureapp.collectors.kubernetes.normalise`); a contract change shows up here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import postureapp.checks.kubernetes  # noqa: F401 - registers the checks
from postureapp.checks.registry import REGISTRY, Result
from postureapp.collectors.kubernetes.kinds import ALL_KINDS
from postureapp.collectors.kubernetes.normalise import cluster_resource, normalise
from postureapp.inventory import Inventory
from postureapp.model import CollectorRun, Resource, RunStatus, Status

SCOPE = "prod"
NOW = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)
CREATED = "2024-12-01T00:00:00Z"
SETTINGS = {"secret_rotation_days": 90, "cert_warning_days": 30, "unused_days": 90}

_SPECS = {spec.kind: spec for spec in ALL_KINDS}


def k8s(
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owners: list[dict[str, Any]] | None = None,
    created: str | None = CREATED,
    scope: str = SCOPE,
    **fields: Any,
) -> Resource:
    """One object, as ``kubectl get -o json`` shows it, normalised."""
    spec = _SPECS[kind]
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if created:
        meta["creationTimestamp"] = created
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    if owners:
        meta["ownerReferences"] = owners
    obj = {"apiVersion": spec.api_version(), "kind": kind, "metadata": meta, **fields}
    return normalise(scope, kind, obj, spec.api_version())


def cluster(scope: str = SCOPE, **installed: bool | None) -> Resource:
    products = {"istio": False, "gateway_api": False, "cert_manager": False}
    products.update({"gatekeeper": False, "kyverno": False})
    products.update(installed)
    return cluster_resource(scope, {"source": "live", "installed": products, "crds": {}})


def namespace(name: str, *, enforce: str | None = None, **labels: str) -> Resource:
    all_labels = {"kubernetes.io/metadata.name": name, **labels}
    if enforce:
        all_labels["pod-security.kubernetes.io/enforce"] = enforce
    return k8s("Namespace", name, labels=all_labels, status={"phase": "Active"})


def service_account(name: str, ns: str, automount: bool | None = None) -> Resource:
    fields = {} if automount is None else {"automountServiceAccountToken": automount}
    return k8s("ServiceAccount", name, ns, **fields)


def rule(verbs, resources, groups=("",), names=()) -> dict[str, Any]:
    body = {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
    if names:
        body["resourceNames"] = list(names)
    return body


def cluster_role(name: str, *rules: dict, labels=None, aggregate: dict | None = None) -> Resource:
    fields: dict[str, Any] = {"rules": list(rules)}
    if aggregate is not None:
        fields["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return k8s("ClusterRole", name, labels=labels, **fields)


def role(name: str, ns: str, *rules: dict) -> Resource:
    return k8s("Role", name, ns, rules=list(rules))


def sa_subject(name: str, ns: str | None = None) -> dict[str, Any]:
    subject = {"kind": "ServiceAccount", "name": name}
    if ns:
        subject["namespace"] = ns
    return subject


def user(name: str) -> dict[str, Any]:
    return {"kind": "User", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def group(name: str) -> dict[str, Any]:
    return {"kind": "Group", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def crb(name: str, role_name: str, *subjects: dict) -> Resource:
    return k8s(
        "ClusterRoleBinding",
        name,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        subjects=list(subjects),
    )


def rb(name: str, ns: str, role_name: str, *subjects: dict, kind: str = "Role") -> Resource:
    return k8s(
        "RoleBinding",
        name,
        ns,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name},
        subjects=list(subjects),
    )


def container(name: str = "app", image: str = "registry.example.com/app:1.0", **extra) -> dict:
    return {"name": name, "image": image, **extra}


_TOKEN_VOLUME = {
    "name": "kube-api-access-abcde",
    "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "t"}}]},
}


def pod(
    name: str,
    ns: str,
    *,
    deployment: str | None = None,
    owner: tuple[str, str] | None = None,
    sa: str | None = None,
    containers: Iterable[dict] | None = None,
    token: bool = False,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> Resource:
    """A pod; ``deployment`` makes it a Deployment's (through its ReplicaSet),
    ``owner`` gives another controller (kind, name)."""
    all_labels = dict(labels or {})
    owners = None
    if deployment:
        all_labels["pod-template-hash"] = "5d4c3b2a1"
        owner = ("ReplicaSet", f"{deployment}-5d4c3b2a1")
    if owner:
        owners = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}]
    body: dict[str, Any] = {"containers": list(containers or [container()]), **spec}
    if sa:
        body["serviceAccountName"] = sa
    if token:
        body["volumes"] = [*body.get("volumes", []), _TOKEN_VOLUME]
    return k8s("Pod", name, ns, labels=all_labels, owners=owners, spec=body)


def controller(
    kind: str,
    name: str,
    ns: str,
    *,
    sa: str | None = None,
    containers: Iterable[dict] | None = None,
    labels: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    replicas: int | None = None,
    **spec: Any,
) -> Resource:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob whose pod
    template has these containers (and pod-spec fields)."""
    body: dict[str, Any] = {"containers": list(containers or [container()]), **spec}
    if sa:
        body["serviceAccountName"] = sa
    template = {"metadata": {"labels": labels or {"app": name}}, "spec": body}
    fields: dict[str, Any]
    if kind == "CronJob":
        fields = {
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
        }
    else:
        fields = {
            "spec": {"selector": {"matchLabels": labels or {"app": name}}, "template": template}
        }
        if replicas is not None:
            fields["spec"]["replicas"] = replicas
    owners = None
    if owner:
        owners = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}]
    return k8s(kind, name, ns, owners=owners, **fields)


def service(name: str, ns: str, kind: str = "ClusterIP", *, ports=None, selector=None, **spec):
    body = {"type": kind, "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080}]}
    if selector:
        body["selector"] = selector
    status = spec.pop("status", {})
    annotations = spec.pop("annotations", None)
    body.update(spec)
    return k8s("Service", name, ns, annotations=annotations, spec=body, status=status)


def netpol(name: str, ns: str, **spec: Any) -> Resource:
    return k8s("NetworkPolicy", name, ns, spec=spec)


def secret(name: str, ns: str, kind: str | None = "Opaque", **meta: Any) -> Resource:
    fields = {} if kind is None else {"type": kind}
    return k8s("Secret", name, ns, **meta, **fields)


def peer_auth(name: str, ns: str, mode: str, selector: dict | None = None, **spec) -> Resource:
    body: dict[str, Any] = {"mtls": {"mode": mode}, **spec}
    if selector is not None:
        body["selector"] = {"matchLabels": selector}
    return k8s("PeerAuthentication", name, ns, spec=body)


def inventory(
    *resources: Resource,
    unknown: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    now: datetime = NOW,
    read: Iterable[str] = (),
) -> Inventory:
    """``read``: kinds a collector run recorded as read (as every real collection does);
    without, the inventory is hand-built and records nothing."""
    runs = []
    if unknown or read:
        status = RunStatus.PARTIAL if unknown else RunStatus.OK
        runs.append(
            CollectorRun(
                "kubernetes",
                SCOPE,
                status,
                scope=SCOPE,
                unknown=dict(unknown or {}),
                kinds={kind: "read" for kind in read},
            )
        )
    return Inventory(
        resources=list(resources), runs=runs, settings=settings or dict(SETTINGS), now=now
    )


def run(check_id: str, inv: Inventory) -> list[Result]:
    return list(REGISTRY.checks[check_id].function(inv))


def uid_of(result: Result) -> str:
    return result.resource if isinstance(result.resource, str) else result.resource.uid


def results(check_id: str, inv: Inventory) -> dict[str, Result]:
    """Results by resource uid (a check judges each resource once)."""
    found: dict[str, Result] = {}
    for result in run(check_id, inv):
        uid = uid_of(result)
        assert uid not in found, f"{check_id} judged {uid} twice"
        found[uid] = result
    return found


def failing(check_id: str, inv: Inventory) -> dict[str, Result]:
    return {uid: r for uid, r in results(check_id, inv).items() if r.status is Status.FAIL}


def severity(check_id: str, result: Result):
    return result.severity or REGISTRY.checks[check_id].severity
