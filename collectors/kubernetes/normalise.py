"""Normalisers: one Kubernetes object (the API's JSON) becomes one :class:`Resource`.

The live collector and the offline loader both call :func:`normalise`, so a resource
looks the same whichever way it was read. Checks are written against the ``attrs``
documented here; treat this docstring as the contract and change it with care.

Common to every kind
--------------------
``Resource.kind`` is the Kubernetes kind listed below; ``name``/``namespace`` come from
metadata (namespace ``""`` for cluster-scoped kinds); ``uid`` is
``k8s://<scope>/<namespace|_>/<Kind>/<name>`` (:func:`postureapp.model.k8s_uid`);
``created_at`` is ``metadata.creationTimestamp`` (ISO 8601, ``Z``). Every ``attrs`` has:

- ``api_version`` (str): ``"v1"``, ``"rbac.authorization.k8s.io/v1"``...
- ``object_uid`` (str | None): ``metadata.uid``; it changes when an object is re-created.
- ``labels`` ({str: str}) and ``annotations`` ({str: str}); the annotation
  ``kubectl.kubernetes.io/last-applied-configuration`` is always dropped (it can hold a
  whole Secret, data included, or a pod's literal env values).
- ``owner_references`` ([{kind, name, api_version, controller: bool}]).

Conventions: a *selector* is ``{match_labels: {str: str}, match_expressions: [{key,
operator, values: [str]}]}`` and an empty one selects everything. An optional boolean
that is not set is ``None``, not ``False`` (Kubernetes defaults differ from "false").
Lists keep the source order. Nothing in attrs is ever a secret value.

Per kind
--------
Namespace
    ``phase``; ``pod_security``: ``{enforce, enforce_version, audit, audit_version, warn,
    warn_version}`` from the ``pod-security.kubernetes.io/*`` labels (None when unset).
ServiceAccount
    ``automount_service_account_token`` (bool | None); ``irsa_role_arn`` (the
    ``eks.amazonaws.com/role-arn`` annotation or None); ``image_pull_secrets`` and
    ``secrets`` (names).
Role, ClusterRole
    ``rules``: [{api_groups, resources, verbs, resource_names, non_resource_urls}] (lists
    of str, ``[]`` when absent). ClusterRole adds ``aggregation_rule``:
    ``{cluster_role_selectors: [selector]}`` or None.
RoleBinding, ClusterRoleBinding
    ``role_ref``: {api_group, kind, name}; ``subjects``: [{kind, name, namespace,
    api_group}] (namespace/api_group None when absent).
Pod
    ``service_account`` (str, ``"default"`` when unset); ``automount_service_account_token``
    (the pod's own setting, bool | None); ``service_account_token_mounted`` (a projected
    Kubernetes API token volume is present — the admission plugin adds
    ``kube-api-access-*`` when automount is in effect); ``host_network``, ``host_pid``,
    ``host_ipc``, ``privileged`` (any container) (bool); ``host_ports`` ([int]);
    ``images`` (sorted, unique); ``phase``; ``node_name``;
    ``owner``: the controller owner reference {kind, name} or None;
    ``workload``: {kind, name, inferred} — the owner, except that a ReplicaSet named
    ``<deployment>-<pod-template-hash label>`` becomes the Deployment (``inferred``
    true); a pod without owner is its own workload (kind ``Pod``);
    ``security_context``: {run_as_non_root, run_as_user, run_as_group, seccomp_profile};
    ``containers``: [{name, type ("container" | "init" | "ephemeral"), image, privileged
    (bool), allow_privilege_escalation, run_as_non_root, run_as_user,
    read_only_root_filesystem, seccomp_profile, capabilities: {add: [str], drop: [str]},
    ports: [{name, container_port, host_port, protocol}], env: [{name, source, secret,
    looks_secret, secret_hint}], env_from: [{kind ("Secret" | "ConfigMap"), name}]}].
    ``env.source`` is ``value`` (a literal), ``secretKeyRef``, ``configMapKeyRef``,
    ``fieldRef``, ``resourceFieldRef`` or ``other``; ``env.secret`` is {name, key} for a
    secretKeyRef; ``looks_secret``/``secret_hint`` say whether a *literal* value looks
    like a credential and why (``aws-access-key-id``, ``private-key``, ``jwt``,
    ``github-token``, ``slack-token``, ``url-credentials``, ``secret-like-name``) —
    the value itself is never kept;
    ``volumes``: [{name, type (the volume source key: secret, configMap, hostPath,
    projected, persistentVolumeClaim, emptyDir...), source (secret name, config map name,
    host path, claim name, CSI driver, or None), service_account_token (bool: a projected
    token for the Kubernetes API), token_audiences ([str]: explicit projected token
    audiences, e.g. ``sts.amazonaws.com`` for IRSA)}];
    ``image_pull_secrets`` ([str]); ``secret_refs``: sorted names of every Secret the
    pod references (env, envFrom, volumes, projected volumes, image pull secrets).
Service
    ``type`` (ClusterIP | NodePort | LoadBalancer | ExternalName); ``cluster_ip``;
    ``external_ips`` ([str]); ``external_name``; ``ports``: [{name, protocol, port,
    target_port (int | str), node_port}]; ``selector`` ({str: str}, ``{}`` when none);
    ``load_balancer_ingress``: [{ip, hostname}]; ``load_balancer_source_ranges``;
    ``load_balancer_class``; ``external_traffic_policy``.
Ingress
    ``ingress_class`` (spec.ingressClassName or the legacy annotation); ``hosts`` (sorted;
    ``"*"`` for a rule without host); ``tls``: [{hosts, secret_name}]; ``tls_hosts``;
    ``hosts_without_tls``; ``paths``: [{host, path, path_type, backend}] where a backend
    is {service, port (int | str | None), resource ({kind, name} | None)};
    ``default_backend`` (backend | None); ``backend_services`` (sorted names);
    ``load_balancer_ingress``: [{ip, hostname}].
NetworkPolicy
    ``pod_selector`` (selector); ``selects_all_pods``; ``policy_types`` (effective: as
    written, or ``["Ingress"]`` plus ``"Egress"`` when egress rules exist);
    ``ingress``/``egress``: [{peers: [{pod_selector, namespace_selector, ip_block:
    {cidr, except} | None}], ports: [{protocol, port, end_port}]}] (``peers`` ``[]`` =
    any source/destination); ``default_deny_ingress`` / ``default_deny_egress``: selects
    all pods, has the policy type and no rule of that direction;
    ``allows_all_ingress``: some ingress rule has no peers and no ports.
ValidatingWebhookConfiguration, MutatingWebhookConfiguration
    ``webhook_names``; ``webhooks``: [{name, failure_policy, side_effects,
    timeout_seconds, match_policy, reinvocation_policy, client: {service: {namespace,
    name, port, path} | None, url}, rules: [{operations, api_groups, api_versions,
    resources, scope}], namespace_selector, object_selector}] (caBundle dropped).
Secret (metadata only: values are never read live, and dropped offline)
    ``type``: one of :data:`SECRET_TYPES` or ``"other"`` (None if it could not be
    determined); ``legacy_token_last_used`` / ``legacy_token_invalid_since`` (the
    ``kubernetes.io/legacy-token-*`` label dates); ``service_account`` (the
    ``kubernetes.io/service-account.name`` annotation).
PeerAuthentication (Istio)
    ``selector`` ({str: str} | None: none = the whole namespace, or the mesh in the root
    namespace); ``mtls_mode`` (STRICT | PERMISSIVE | DISABLE | UNSET);
    ``port_level_mtls`` ({port: mode}).
AuthorizationPolicy (Istio)
    ``action`` (ALLOW by default, DENY, AUDIT, CUSTOM); ``selector``; ``target_refs``;
    ``provider``; ``rules`` (verbatim from the spec, camelCase); ``rule_count``.
DestinationRule (Istio)
    ``host``; ``tls_mode`` (trafficPolicy.tls.mode or None); ``port_level_tls``
    ({port: mode}); ``subsets``: [{name, tls_mode, circuit_breaking (bool: outlier
    detection or connection-pool limits of its own)}]; ``export_to``;
    ``outlier_detection``: {consecutive_5xx_errors, consecutive_gateway_errors, interval,
    base_ejection_time, max_ejection_percent} | None; ``connection_pool``:
    {max_connections, connect_timeout, http1_max_pending_requests, http2_max_requests,
    max_requests_per_connection, max_retries} | None (trafficPolicy, host-wide).
EnvoyFilter (Istio, networking.istio.io/v1alpha3)
    ``workload_selector`` ({str: str} | None: none = every proxy of the namespace, or of
    the mesh in the root namespace); ``target_refs``: [{kind, name}];
    ``config_patches``: [{apply_to, context (SIDECAR_INBOUND | GATEWAY | ...),
    operation, rate_limit_filter (the Envoy rate-limit filter it adds, by name or typed
    config, or None)}]; ``rate_limit_filters`` (sorted, unique; e.g.
    ``envoy.filters.http.local_ratelimit``).
PodDisruptionBudget (policy/v1)
    ``selector`` (selector | None); ``min_available``, ``max_unavailable`` (int, a
    percentage string, or None); ``unhealthy_pod_eviction_policy``; from status:
    ``expected_pods``, ``current_healthy``, ``desired_healthy``,
    ``disruptions_allowed`` (int | None).
Gateway (Gateway API)
    ``gateway_class``; ``listeners``: [{name, protocol, port, hostname, tls_mode,
    certificate_refs: [{kind, name, namespace}], allowed_routes_from}]; ``addresses``
    (status addresses, [str]).
HTTPRoute (Gateway API)
    ``hostnames``; ``parent_refs``: [{kind, name, namespace, section_name, port}];
    ``backends``: [{kind, name, namespace, port}]; ``rule_count``.
Certificate (cert-manager)
    ``secret_name``; ``common_name``; ``dns_names``; ``issuer_ref`` {name, kind, group};
    ``duration``; ``renew_before``; ``private_key`` {algorithm, size, rotation_policy};
    ``not_before``, ``not_after``, ``renewal_time`` (status, ISO 8601 | None); ``ready``
    (Ready condition, bool | None).
ConstraintTemplate (Gatekeeper)
    ``constraint_kind``; ``targets`` ([str]); ``created`` (bool | None).
ClusterPolicy, Policy (Kyverno)
    ``validation_failure_action`` (Enforce | Audit | None); ``background``; ``rules``:
    [{name, types ([validate, mutate, generate, verifyImages]), failure_action}];
    ``rule_count``; ``ready`` (bool | None).
Cluster (synthetic, one per live context; see :func:`cluster_resource`)
    ``context``; ``server`` (the API server URL); ``in_cluster`` (bool); ``version``:
    {git_version, major, minor, platform} | None (when /version could not be read);
    ``api_groups`` ([str], None when discovery failed); ``installed``: {istio,
    gateway_api, cert_manager, gatekeeper, kyverno} → bool, None when discovery of it
    failed; ``crds``: {kind: api_version} of the optional kinds read. Offline dumps
    have no Cluster resource.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from postureapp.collectors.kubernetes.kinds import CLUSTER_KIND
from postureapp.collectors.kubernetes.normalise_traffic import (
    circuit_breaking,
    envoy_filter,
    pod_disruption_budget,
)
from postureapp.model import Resource, isoformat, k8s_uid, parse_time

PROVIDER = "kubernetes"

DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
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


def _normaliser_version() -> str:
    """A digest of the normalisers' own source: an object whose resourceVersion did not
    change still gets new attrs when the code that derives them did."""
    digest = hashlib.blake2b(digest_size=8)
    for module in ("normalise.py", "normalise_traffic.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


NORMALISER_VERSION = _normaliser_version()


class MalformedObject(ValueError):
    """An object without the shape every Kubernetes object has (metadata.name)."""


# -- small helpers ---------------------------------------------------------------------


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _strmap(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _time(value: Any) -> str | None:
    if not value:
        return None
    try:
        return isoformat(parse_time(str(value)))
    except ValueError:
        return None


def selector(value: Any) -> dict[str, Any]:
    """A metav1.LabelSelector as plain, snake_case JSON."""
    sel = _map(value)
    return {
        "match_labels": _strmap(sel.get("matchLabels")),
        "match_expressions": [
            {
                "key": str(_map(expr).get("key", "")),
                "operator": str(_map(expr).get("operator", "")),
                "values": _strs(_map(expr).get("values")),
            }
            for expr in _list(sel.get("matchExpressions"))
        ],
    }


def _optional_selector(value: Any) -> dict[str, Any] | None:
    return None if value is None else selector(value)


def _selects_all(sel: dict[str, Any]) -> bool:
    return not sel["match_labels"] and not sel["match_expressions"]


def annotations(meta: Mapping[str, Any]) -> dict[str, str]:
    raw = _strmap(meta.get("annotations"))
    for key in DROPPED_ANNOTATIONS:
        raw.pop(key, None)
    return raw


def _owner_references(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": str(ref.get("kind", "")),
            "name": str(ref.get("name", "")),
            "api_version": str(ref.get("apiVersion", "")),
            "controller": ref.get("controller") is True,
        }
        for ref in map(_map, _list(meta.get("ownerReferences")))
    ]


def _names(refs: Any) -> list[str]:
    return [str(_map(ref).get("name", "")) for ref in _list(refs) if _map(ref).get("name")]


# -- secret-looking literals -----------------------------------------------------------

_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("jwt", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("url-credentials", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
_SECRET_NAME = re.compile(
    r"PASSW(?:OR)?D|PASSWD|\bPWD\b|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL"
    r"|AUTH|SIGNING_?KEY|ENCRYPTION_?KEY",
    re.IGNORECASE,
)
# Names that mention a secret but hold a reference to one, not the secret itself.
_REFERENCE_SUFFIX = re.compile(
    r"_(?:FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|PORT|NAME|TTL|TIMEOUT|EXPIRY|ENABLED|MODE|TYPE"
    r"|HEADER|REF|REGION|ID|ARN|AUDIENCE|ISSUER|LENGTH|SIZE|VERSION)$",
    re.IGNORECASE,
)
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", ""})


def secret_hint(name: str, value: str) -> str | None:
    """Why a literal env value looks like a credential, or None. Never returns the value."""
    if not value:
        return None
    for reason, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return reason
    if not _SECRET_NAME.search(name) or _REFERENCE_SUFFIX.search(name):
        return None
    stripped = value.strip()
    if (
        len(stripped) < 6
        or stripped.lower() in _NOT_SECRET_VALUES
        or stripped.isdigit()
        or stripped.startswith(("/", "$(", "${", "http://", "https://", "arn:"))
    ):
        return None
    return "secret-like-name"


# -- per kind --------------------------------------------------------------------------


def _namespace(obj: Mapping[str, Any]) -> dict[str, Any]:
    labels = _strmap(_map(obj.get("metadata")).get("labels"))
    pod_security = {}
    for mode in ("enforce", "audit", "warn"):
        pod_security[mode] = labels.get(f"{POD_SECURITY_PREFIX}{mode}")
        pod_security[f"{mode}_version"] = labels.get(f"{POD_SECURITY_PREFIX}{mode}-version")
    return {"phase": _map(obj.get("status")).get("phase"), "pod_security": pod_security}


def _service_account(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta_annotations = _strmap(_map(obj.get("metadata")).get("annotations"))
    return {
        "automount_service_account_token": _opt_bool(obj.get("automountServiceAccountToken")),
        "irsa_role_arn": meta_annotations.get(IRSA_ANNOTATION) or None,
        "image_pull_secrets": _names(obj.get("imagePullSecrets")),
        "secrets": _names(obj.get("secrets")),
    }


def _rules(value: Any) -> list[dict[str, Any]]:
    return [
        {
            "api_groups": _strs(rule.get("apiGroups")),
            "resources": _strs(rule.get("resources")),
            "verbs": _strs(rule.get("verbs")),
            "resource_names": _strs(rule.get("resourceNames")),
            "non_resource_urls": _strs(rule.get("nonResourceURLs")),
        }
        for rule in map(_map, _list(value))
    ]


def _role(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {"rules": _rules(obj.get("rules"))}


def _cluster_role(obj: Mapping[str, Any]) -> dict[str, Any]:
    aggregation = obj.get("aggregationRule")
    return {
        "rules": _rules(obj.get("rules")),
        "aggregation_rule": None
        if aggregation is None
        else {
            "cluster_role_selectors": [
                selector(sel) for sel in _list(_map(aggregation).get("clusterRoleSelectors"))
            ]
        },
    }


def _binding(obj: Mapping[str, Any]) -> dict[str, Any]:
    ref = _map(obj.get("roleRef"))
    return {
        "role_ref": {
            "api_group": ref.get("apiGroup"),
            "kind": ref.get("kind"),
            "name": ref.get("name"),
        },
        "subjects": [
            {
                "kind": subject.get("kind"),
                "name": subject.get("name"),
                "namespace": subject.get("namespace") or None,
                "api_group": subject.get("apiGroup") or None,
            }
            for subject in map(_map, _list(obj.get("subjects")))
        ],
    }


def _env(entry: Mapping[str, Any]) -> dict[str, Any]:
    name = str(entry.get("name", ""))
    value_from = _map(entry.get("valueFrom"))
    secret = None
    hint = None
    if value_from:
        source = next(
            (
                key
                for key in ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")
                if key in value_from
            ),
            "other",
        )
        if source == "secretKeyRef":
            ref = _map(value_from["secretKeyRef"])
            secret = {"name": ref.get("name"), "key": ref.get("key")}
    else:
        source = "value"
        hint = secret_hint(name, str(entry.get("value") or ""))
    return {
        "name": name,
        "source": source,
        "secret": secret,
        "looks_secret": hint is not None,
        "secret_hint": hint,
    }


def _container(c: Mapping[str, Any], ctype: str, secret_refs: set[str]) -> dict[str, Any]:
    sc = _map(c.get("securityContext"))
    caps = _map(sc.get("capabilities"))
    env = [_env(_map(item)) for item in _list(c.get("env"))]
    for item in env:
        if item["secret"] and item["secret"]["name"]:
            secret_refs.add(str(item["secret"]["name"]))
    env_from = []
    for item in map(_map, _list(c.get("envFrom"))):
        if "secretRef" in item:
            ref_name = _map(item["secretRef"]).get("name")
            env_from.append({"kind": "Secret", "name": ref_name})
            if ref_name:
                secret_refs.add(str(ref_name))
        elif "configMapRef" in item:
            env_from.append({"kind": "ConfigMap", "name": _map(item["configMapRef"]).get("name")})
    return {
        "name": str(c.get("name", "")),
        "type": ctype,
        "image": c.get("image"),
        "privileged": sc.get("privileged") is True,
        "allow_privilege_escalation": _opt_bool(sc.get("allowPrivilegeEscalation")),
        "run_as_non_root": _opt_bool(sc.get("runAsNonRoot")),
        "run_as_user": sc.get("runAsUser"),
        "read_only_root_filesystem": _opt_bool(sc.get("readOnlyRootFilesystem")),
        "seccomp_profile": _map(sc.get("seccompProfile")).get("type"),
        "capabilities": {"add": _strs(caps.get("add")), "drop": _strs(caps.get("drop"))},
        "ports": [
            {
                "name": port.get("name"),
                "container_port": port.get("containerPort"),
                "host_port": port.get("hostPort"),
                "protocol": port.get("protocol", "TCP"),
            }
            for port in map(_map, _list(c.get("ports")))
        ],
        "env": env,
        "env_from": env_from,
    }


_VOLUME_SOURCE_FIELD = {
    "secret": "secretName",
    "configMap": "name",
    "hostPath": "path",
    "persistentVolumeClaim": "claimName",
    "csi": "driver",
}


def _volume(v: Mapping[str, Any], secret_refs: set[str]) -> dict[str, Any]:
    vtype = next((key for key in v if key != "name"), None)
    body = _map(v.get(vtype)) if vtype else {}
    source_field = _VOLUME_SOURCE_FIELD.get(vtype or "")
    source = body.get(source_field) if source_field else None
    api_token = False
    audiences: list[str] = []
    if vtype == "secret" and source:
        secret_refs.add(str(source))
    elif vtype == "projected":
        for item in map(_map, _list(body.get("sources"))):
            if "serviceAccountToken" in item:
                audience = _map(item["serviceAccountToken"]).get("audience")
                if audience:
                    audiences.append(str(audience))
                else:
                    api_token = True
            if "secret" in item and _map(item["secret"]).get("name"):
                secret_refs.add(str(item["secret"]["name"]))
    return {
        "name": str(v.get("name", "")),
        "type": vtype,
        "source": None if source is None else str(source),
        "service_account_token": api_token,
        "token_audiences": audiences,
    }


def _workload(owner: dict[str, str] | None, labels: Mapping[str, str], name: str) -> dict[str, Any]:
    if owner is None:
        return {"kind": "Pod", "name": name, "inferred": False}
    template_hash = labels.get("pod-template-hash")
    suffix = f"-{template_hash}"
    if owner["kind"] == "ReplicaSet" and template_hash and owner["name"].endswith(suffix):
        return {"kind": "Deployment", "name": owner["name"][: -len(suffix)], "inferred": True}
    return {"kind": owner["kind"], "name": owner["name"], "inferred": False}


def _pod(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = _map(obj.get("metadata"))
    spec = _map(obj.get("spec"))
    labels = _strmap(meta.get("labels"))
    secret_refs: set[str] = set()
    containers = [
        _container(_map(c), ctype, secret_refs)
        for ctype, key in (
            ("init", "initContainers"),
            ("container", "containers"),
            ("ephemeral", "ephemeralContainers"),
        )
        for c in _list(spec.get(key))
    ]
    volumes = [_volume(_map(v), secret_refs) for v in _list(spec.get("volumes"))]
    pull_secrets = _names(spec.get("imagePullSecrets"))
    secret_refs.update(pull_secrets)
    refs = _list(meta.get("ownerReferences"))
    controller = next((_map(r) for r in refs if _map(r).get("controller") is True), None)
    if controller is None and refs:
        controller = _map(refs[0])
    owner = (
        None
        if controller is None
        else {"kind": str(controller.get("kind", "")), "name": str(controller.get("name", ""))}
    )
    psc = _map(spec.get("securityContext"))
    return {
        "service_account": spec.get("serviceAccountName")
        or spec.get("serviceAccount")
        or "default",
        "automount_service_account_token": _opt_bool(spec.get("automountServiceAccountToken")),
        "service_account_token_mounted": any(v["service_account_token"] for v in volumes),
        "host_network": spec.get("hostNetwork") is True,
        "host_pid": spec.get("hostPID") is True,
        "host_ipc": spec.get("hostIPC") is True,
        "privileged": any(c["privileged"] for c in containers),
        "host_ports": sorted(
            {p["host_port"] for c in containers for p in c["ports"] if p["host_port"]}
        ),
        "images": sorted({str(c["image"]) for c in containers if c["image"]}),
        "phase": _map(obj.get("status")).get("phase"),
        "node_name": spec.get("nodeName"),
        "owner": owner,
        "workload": _workload(owner, labels, str(meta.get("name", ""))),
        "security_context": {
            "run_as_non_root": _opt_bool(psc.get("runAsNonRoot")),
            "run_as_user": psc.get("runAsUser"),
            "run_as_group": psc.get("runAsGroup"),
            "seccomp_profile": _map(psc.get("seccompProfile")).get("type"),
        },
        "containers": containers,
        "volumes": volumes,
        "image_pull_secrets": pull_secrets,
        "secret_refs": sorted(secret_refs),
    }


def _lb_ingress(status: Any) -> list[dict[str, Any]]:
    return [
        {"ip": item.get("ip"), "hostname": item.get("hostname")}
        for item in map(_map, _list(_map(_map(status).get("loadBalancer")).get("ingress")))
    ]


def _service(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    return {
        "type": spec.get("type") or "ClusterIP",
        "cluster_ip": spec.get("clusterIP"),
        "external_ips": _strs(spec.get("externalIPs")),
        "external_name": spec.get("externalName"),
        "ports": [
            {
                "name": port.get("name"),
                "protocol": port.get("protocol", "TCP"),
                "port": port.get("port"),
                "target_port": port.get("targetPort", port.get("port")),
                "node_port": port.get("nodePort"),
            }
            for port in map(_map, _list(spec.get("ports")))
        ],
        "selector": _strmap(spec.get("selector")),
        "load_balancer_ingress": _lb_ingress(obj.get("status")),
        "load_balancer_source_ranges": _strs(spec.get("loadBalancerSourceRanges")),
        "load_balancer_class": spec.get("loadBalancerClass"),
        "external_traffic_policy": spec.get("externalTrafficPolicy"),
    }


def _backend(value: Any) -> dict[str, Any]:
    backend = _map(value)
    service = _map(backend.get("service"))
    port = _map(service.get("port"))
    resource = _map(backend.get("resource"))
    return {
        "service": service.get("name"),
        "port": port.get("number", port.get("name")),
        "resource": {"kind": resource.get("kind"), "name": resource.get("name")}
        if resource
        else None,
    }


def _host_covered(host: str, tls_hosts: set[str]) -> bool:
    if host in tls_hosts:
        return True
    _, _, parent = host.partition(".")
    return bool(parent) and f"*.{parent}" in tls_hosts


def _ingress(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = _map(obj.get("metadata"))
    spec = _map(obj.get("spec"))
    tls = [
        {"hosts": _strs(item.get("hosts")), "secret_name": item.get("secretName")}
        for item in map(_map, _list(spec.get("tls")))
    ]
    tls_hosts = {host for item in tls for host in item["hosts"]}
    paths = []
    hosts = set()
    for rule in map(_map, _list(spec.get("rules"))):
        host = str(rule.get("host") or "*")
        hosts.add(host)
        for path in map(_map, _list(_map(rule.get("http")).get("paths"))):
            paths.append(
                {
                    "host": host,
                    "path": path.get("path"),
                    "path_type": path.get("pathType"),
                    "backend": _backend(path.get("backend")),
                }
            )
    default_backend = _backend(spec["defaultBackend"]) if spec.get("defaultBackend") else None
    backends = [p["backend"] for p in paths] + ([default_backend] if default_backend else [])
    return {
        "ingress_class": spec.get("ingressClassName")
        or _strmap(meta.get("annotations")).get("kubernetes.io/ingress.class"),
        "hosts": sorted(hosts),
        "tls": tls,
        "tls_hosts": sorted(tls_hosts),
        "hosts_without_tls": sorted(h for h in hosts if not _host_covered(h, tls_hosts)),
        "paths": paths,
        "default_backend": default_backend,
        "backend_services": sorted({str(b["service"]) for b in backends if b["service"]}),
        "load_balancer_ingress": _lb_ingress(obj.get("status")),
    }


def _peer(value: Any) -> dict[str, Any]:
    peer = _map(value)
    block = _map(peer.get("ipBlock"))
    return {
        "pod_selector": _optional_selector(peer.get("podSelector")),
        "namespace_selector": _optional_selector(peer.get("namespaceSelector")),
        "ip_block": {"cidr": block.get("cidr"), "except": _strs(block.get("except"))}
        if block
        else None,
    }


def _policy_rules(rules: Any, peers_key: str) -> list[dict[str, Any]]:
    return [
        {
            "peers": [_peer(p) for p in _list(rule.get(peers_key))],
            "ports": [
                {
                    "protocol": port.get("protocol", "TCP"),
                    "port": port.get("port"),
                    "end_port": port.get("endPort"),
                }
                for port in map(_map, _list(rule.get("ports")))
            ],
        }
        for rule in map(_map, _list(rules))
    ]


def _network_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    pod_selector = selector(spec.get("podSelector"))
    ingress = _policy_rules(spec.get("ingress"), "from")
    egress = _policy_rules(spec.get("egress"), "to")
    types = _strs(spec.get("policyTypes")) or ["Ingress"] + (["Egress"] if egress else [])
    all_pods = _selects_all(pod_selector)
    return {
        "pod_selector": pod_selector,
        "selects_all_pods": all_pods,
        "policy_types": types,
        "ingress": ingress,
        "egress": egress,
        "default_deny_ingress": all_pods and "Ingress" in types and not ingress,
        "default_deny_egress": all_pods and "Egress" in types and not egress,
        "allows_all_ingress": "Ingress" in types
        and any(not rule["peers"] and not rule["ports"] for rule in ingress),
    }


def _webhook_configuration(obj: Mapping[str, Any]) -> dict[str, Any]:
    webhooks = []
    for hook in map(_map, _list(obj.get("webhooks"))):
        client = _map(hook.get("clientConfig"))
        service = _map(client.get("service"))
        webhooks.append(
            {
                "name": hook.get("name"),
                "failure_policy": hook.get("failurePolicy"),
                "side_effects": hook.get("sideEffects"),
                "timeout_seconds": hook.get("timeoutSeconds"),
                "match_policy": hook.get("matchPolicy"),
                "reinvocation_policy": hook.get("reinvocationPolicy"),
                "client": {
                    "service": {
                        "namespace": service.get("namespace"),
                        "name": service.get("name"),
                        "port": service.get("port"),
                        "path": service.get("path"),
                    }
                    if service
                    else None,
                    "url": client.get("url"),
                },
                "rules": [
                    {
                        "operations": _strs(rule.get("operations")),
                        "api_groups": _strs(rule.get("apiGroups")),
                        "api_versions": _strs(rule.get("apiVersions")),
                        "resources": _strs(rule.get("resources")),
                        "scope": rule.get("scope"),
                    }
                    for rule in map(_map, _list(hook.get("rules")))
                ],
                "namespace_selector": _optional_selector(hook.get("namespaceSelector")),
                "object_selector": _optional_selector(hook.get("objectSelector")),
            }
        )
    return {"webhook_names": [str(h["name"]) for h in webhooks], "webhooks": webhooks}


def secret_type(value: Any) -> str:
    return value if value in SECRET_TYPES else OTHER_SECRET_TYPE


def _secret(obj: Mapping[str, Any]) -> dict[str, Any]:
    # Only metadata and "type" are read here: data and stringData are never touched.
    meta = _map(obj.get("metadata"))
    labels = _strmap(meta.get("labels"))
    return {
        "type": secret_type(obj["type"]) if "type" in obj else None,
        "legacy_token_last_used": labels.get(LEGACY_TOKEN_LAST_USED),
        "legacy_token_invalid_since": labels.get(LEGACY_TOKEN_INVALID_SINCE),
        "service_account": _strmap(meta.get("annotations")).get(SA_NAME_ANNOTATION),
    }


def _workload_selector(spec: Mapping[str, Any]) -> dict[str, str] | None:
    sel = spec.get("selector")
    return None if sel is None else _strmap(_map(sel).get("matchLabels"))


def _peer_authentication(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    return {
        "selector": _workload_selector(spec),
        "mtls_mode": _map(spec.get("mtls")).get("mode") or "UNSET",
        "port_level_mtls": {
            str(port): _map(setting).get("mode") or "UNSET"
            for port, setting in _map(spec.get("portLevelMtls")).items()
        },
    }


def _authorization_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    rules = _list(spec.get("rules"))
    return {
        "action": spec.get("action") or "ALLOW",
        "selector": _workload_selector(spec),
        "target_refs": _list(spec.get("targetRefs"))
        or ([spec["targetRef"]] if spec.get("targetRef") else []),
        "provider": _map(spec.get("provider")).get("name"),
        "rules": rules,
        "rule_count": len(rules),
    }


def _destination_rule(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    policy = _map(spec.get("trafficPolicy"))
    return {
        "host": spec.get("host"),
        "tls_mode": _map(policy.get("tls")).get("mode"),
        "port_level_tls": {
            str(_map(item.get("port")).get("number")): _map(item.get("tls")).get("mode")
            for item in map(_map, _list(policy.get("portLevelSettings")))
            if item.get("tls")
        },
        "subsets": [
            {
                "name": subset.get("name"),
                "tls_mode": _map(_map(subset.get("trafficPolicy")).get("tls")).get("mode"),
                "circuit_breaking": any(
                    circuit_breaking(_map(subset.get("trafficPolicy"))).values()
                ),
            }
            for subset in map(_map, _list(spec.get("subsets")))
        ],
        "export_to": _strs(spec.get("exportTo")),
        **circuit_breaking(policy),
    }


def _gateway(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    listeners = []
    for listener in map(_map, _list(spec.get("listeners"))):
        tls = _map(listener.get("tls"))
        listeners.append(
            {
                "name": listener.get("name"),
                "protocol": listener.get("protocol"),
                "port": listener.get("port"),
                "hostname": listener.get("hostname"),
                "tls_mode": tls.get("mode") if tls else None,
                "certificate_refs": [
                    {
                        "kind": ref.get("kind", "Secret"),
                        "name": ref.get("name"),
                        "namespace": ref.get("namespace"),
                    }
                    for ref in map(_map, _list(tls.get("certificateRefs")))
                ],
                "allowed_routes_from": _map(
                    _map(listener.get("allowedRoutes")).get("namespaces")
                ).get("from"),
            }
        )
    return {
        "gateway_class": spec.get("gatewayClassName"),
        "listeners": listeners,
        "addresses": [
            str(_map(a).get("value"))
            for a in _list(_map(obj.get("status")).get("addresses"))
            if _map(a).get("value")
        ],
    }


def _http_route(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    rules = _list(spec.get("rules"))
    return {
        "hostnames": _strs(spec.get("hostnames")),
        "parent_refs": [
            {
                "kind": ref.get("kind", "Gateway"),
                "name": ref.get("name"),
                "namespace": ref.get("namespace"),
                "section_name": ref.get("sectionName"),
                "port": ref.get("port"),
            }
            for ref in map(_map, _list(spec.get("parentRefs")))
        ],
        "backends": [
            {
                "kind": ref.get("kind", "Service"),
                "name": ref.get("name"),
                "namespace": ref.get("namespace"),
                "port": ref.get("port"),
            }
            for rule in map(_map, rules)
            for ref in map(_map, _list(rule.get("backendRefs")))
        ],
        "rule_count": len(rules),
    }


def _condition(status: Mapping[str, Any], kind: str) -> bool | None:
    for condition in map(_map, _list(status.get("conditions"))):
        if condition.get("type") == kind:
            return {"True": True, "False": False}.get(str(condition.get("status")))
    return None


def _certificate(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    issuer = _map(spec.get("issuerRef"))
    key = _map(spec.get("privateKey"))
    return {
        "secret_name": spec.get("secretName"),
        "common_name": spec.get("commonName"),
        "dns_names": _strs(spec.get("dnsNames")),
        "issuer_ref": {
            "name": issuer.get("name"),
            "kind": issuer.get("kind", "Issuer"),
            "group": issuer.get("group", "cert-manager.io"),
        },
        "duration": spec.get("duration"),
        "renew_before": spec.get("renewBefore"),
        "private_key": {
            "algorithm": key.get("algorithm"),
            "size": key.get("size"),
            "rotation_policy": key.get("rotationPolicy"),
        },
        "not_before": _time(status.get("notBefore")),
        "not_after": _time(status.get("notAfter")),
        "renewal_time": _time(status.get("renewalTime")),
        "ready": _condition(status, "Ready"),
    }


def _constraint_template(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    return {
        "constraint_kind": _map(_map(_map(spec.get("crd")).get("spec")).get("names")).get("kind"),
        "targets": [str(_map(t).get("target")) for t in _list(spec.get("targets"))],
        "created": _opt_bool(_map(obj.get("status")).get("created")),
    }


_KYVERNO_RULE_TYPES = ("validate", "mutate", "generate", "verifyImages")


def _kyverno_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    rules = [
        {
            "name": rule.get("name"),
            "types": [t for t in _KYVERNO_RULE_TYPES if t in rule],
            "failure_action": _map(rule.get("validate")).get("failureAction"),
        }
        for rule in map(_map, _list(spec.get("rules")))
    ]
    ready = _opt_bool(status.get("ready"))
    return {
        "validation_failure_action": spec.get("validationFailureAction"),
        "background": _opt_bool(spec.get("background")),
        "rules": rules,
        "rule_count": len(rules),
        "ready": ready if ready is not None else _condition(status, "Ready"),
    }


NORMALISERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "Namespace": _namespace,
    "ServiceAccount": _service_account,
    "Role": _role,
    "ClusterRole": _cluster_role,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "Pod": _pod,
    "Service": _service,
    "Ingress": _ingress,
    "NetworkPolicy": _network_policy,
    "ValidatingWebhookConfiguration": _webhook_configuration,
    "MutatingWebhookConfiguration": _webhook_configuration,
    "Secret": _secret,
    "PeerAuthentication": _peer_authentication,
    "AuthorizationPolicy": _authorization_policy,
    "DestinationRule": _destination_rule,
    "EnvoyFilter": envoy_filter,
    "PodDisruptionBudget": lambda obj: pod_disruption_budget(obj, selector),
    "Gateway": _gateway,
    "HTTPRoute": _http_route,
    "Certificate": _certificate,
    "ConstraintTemplate": _constraint_template,
    "ClusterPolicy": _kyverno_policy,
    "Policy": _kyverno_policy,
}


def normalise(scope: str, kind: str, obj: Mapping[str, Any], api_version: str) -> Resource:
    """One object as a Resource. Raises :class:`MalformedObject` without metadata.name."""
    if not isinstance(obj, Mapping):
        raise MalformedObject(f"a {kind} item is not an object")
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping) or not meta.get("name"):
        raise MalformedObject(f"a {kind} item has no metadata.name")
    name = str(meta["name"])
    namespace = str(meta.get("namespace") or "")
    attrs: dict[str, Any] = {
        "api_version": api_version,
        "object_uid": meta.get("uid"),
        "labels": _strmap(meta.get("labels")),
        "annotations": annotations(meta),
        "owner_references": _owner_references(meta),
    }
    attrs.update(NORMALISERS[kind](obj))
    version = meta.get("resourceVersion")
    return Resource(
        uid=k8s_uid(scope, kind, name, namespace or None),
        provider=PROVIDER,
        scope=scope,
        kind=kind,
        name=name,
        namespace=namespace,
        attrs=attrs,
        created_at=_time(meta.get("creationTimestamp")),
        source_version=f"{NORMALISER_VERSION}:{api_version}:{version}" if version else None,
    )


def cluster_resource(scope: str, attrs: dict[str, Any]) -> Resource:
    """The synthetic ``Cluster`` resource (see the module docstring for its attrs)."""
    return Resource(
        uid=k8s_uid(scope, CLUSTER_KIND, scope),
        provider=PROVIDER,
        scope=scope,
        kind=CLUSTER_KIND,
        name=scope,
        attrs=attrs,
    )
