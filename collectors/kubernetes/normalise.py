"""Normalisers: one Kubernetes object (the API's JSON) becomes one :class:`Resource`.

The live collector and the offline loader both call :func:`normalise`, so a resource
looks the same whichever way it was read. What each kind's ``attrs`` hold is typed in
:mod:`postureapp.facts.kubernetes` (and ``kubernetes_workloads``); readers take them
with :func:`postureapp.facts.facts_of`. This docstring keeps what the types cannot say.

Identity: ``Resource.kind`` is the Kubernetes kind; ``name``/``namespace`` come from
metadata (namespace ``""`` for cluster-scoped kinds); ``uid`` is
``k8s://<scope>/<namespace|_>/<Kind>/<name>`` (:func:`postureapp.model.k8s_uid`);
``created_at`` is ``metadata.creationTimestamp`` (ISO 8601, ``Z``).

Shape: every field read is checked against its Kubernetes type (:mod:`._shape`); an
object that does not fit (a string where a list belongs, a null list item, NaN, a
nameless object) raises :class:`MalformedObject` with one line naming the object and
the field. Callers drop it and mark its kind unknown in that scope: a malformed object
is never judged, so it can never pass. A field that is absent or null is unset.

Meaning that the types do not carry:

- Pods and templates: ``privileged`` is ``securityContext.privileged`` only; what else
  is privileged-equivalent (dangerous capabilities, HostProcess) is judged in
  :mod:`postureapp.domain.kubernetes.pods`. Capability names are upper-cased without
  the ``CAP_`` prefix, as the runtime reads them. A Pod's ``workload`` is its
  controller owner, except that a ReplicaSet named ``<deployment>-<pod-template-hash
  label>`` is taken for the Deployment (``inferred``); a pod without owner is its own.
  ``env.looks_secret`` judges a *literal* value without keeping it.
- Ingress ``hosts`` are sorted, ``"*"`` for a rule without host; a host is covered by
  TLS when named in ``spec.tls`` or matched by a ``*.<parent>`` entry there.
- NetworkPolicy ``policy_types`` is the effective list (as written, else ``Ingress``
  plus ``Egress`` when egress rules exist); ``default_deny_*``: selects all pods, has
  the type and no rule of that direction; ``allows_all_ingress``: some ingress rule
  has neither peers nor ports.
- Secret: metadata and ``type`` only, ever (values are not read live and are dropped
  offline); ``type`` is one of :data:`SECRET_TYPES` or ``"other"``, None when unknown.
- Istio selectors: None means every workload of the namespace (of the mesh, in the
  root namespace); AuthorizationPolicy ``rules`` are kept verbatim (camelCase).
- Cluster (synthetic, one per live context or offline dump: :func:`cluster_resource`):
  ``installed[product]`` is True when a kind of that add-on was read, False when its
  API is not served, None when that could not be told.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from postureapp.collectors.kubernetes import (
    normalise_addons,
    normalise_objects,
    normalise_pods,
    normalise_traffic,
)
from postureapp.collectors.kubernetes._shape import Obj, Shape, describe, is_object
from postureapp.collectors.kubernetes.kinds import CLUSTER_KIND
from postureapp.collectors.kubernetes.normalise_objects import (
    OTHER_SECRET_TYPE,
    SECRET_TYPES,
    secret_type,
)
from postureapp.collectors.kubernetes.normalise_pods import secret_hint, timestamp
from postureapp.facts.kubernetes import ClusterFacts
from postureapp.model import Resource, k8s_uid

__all__ = [
    "NORMALISERS",
    "OTHER_SECRET_TYPE",
    "SECRET_TYPES",
    "MalformedObject",
    "cluster_resource",
    "malformed_reason",
    "normalise",
    "secret_hint",
    "secret_type",
]

PROVIDER = "kubernetes"

DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


def _normaliser_version() -> str:
    """A digest of the normalisers' own source: an object whose resourceVersion did not
    change still gets new attrs when the code that derives them did."""
    digest = hashlib.blake2b(digest_size=8)
    here = Path(__file__).parent
    for module in sorted([*here.glob("normalise*.py"), here / "_shape.py"]):
        digest.update(module.read_bytes())
    return digest.hexdigest()


NORMALISER_VERSION = _normaliser_version()


class MalformedObject(ValueError):
    """An object without the Kubernetes shape; ``str()`` names the object and the field."""


NORMALISERS: dict[str, Callable[[Obj], dict[str, Any]]] = {
    "Namespace": normalise_objects.namespace,
    "ServiceAccount": normalise_objects.service_account,
    "Role": normalise_objects.role,
    "ClusterRole": normalise_objects.cluster_role,
    "RoleBinding": normalise_objects.binding,
    "ClusterRoleBinding": normalise_objects.binding,
    "Pod": normalise_pods.pod,
    "Deployment": normalise_pods.controller,
    "StatefulSet": normalise_pods.controller,
    "DaemonSet": normalise_pods.controller,
    "ReplicaSet": normalise_pods.controller,
    "Job": normalise_pods.controller,
    "CronJob": normalise_pods.cron_job,
    "Service": normalise_objects.service,
    "Ingress": normalise_objects.ingress,
    "NetworkPolicy": normalise_objects.network_policy,
    "ValidatingWebhookConfiguration": normalise_objects.webhook_configuration,
    "MutatingWebhookConfiguration": normalise_objects.webhook_configuration,
    "Secret": normalise_objects.secret,
    "PeerAuthentication": normalise_addons.peer_authentication,
    "AuthorizationPolicy": normalise_addons.authorization_policy,
    "DestinationRule": normalise_traffic.destination_rule,
    "EnvoyFilter": normalise_traffic.envoy_filter,
    "PodDisruptionBudget": normalise_traffic.pod_disruption_budget,
    "Gateway": normalise_addons.gateway,
    "HTTPRoute": normalise_addons.http_route,
    "Certificate": normalise_addons.certificate,
    "ConstraintTemplate": normalise_addons.constraint_template,
    "ClusterPolicy": normalise_addons.kyverno_policy,
    "Policy": normalise_addons.kyverno_policy,
}


def _label(kind: str, meta: Mapping[str, Any]) -> str:
    """``Pod shop/web-1`` for messages; what is not a string is left out."""
    name = meta.get("name")
    namespace = meta.get("namespace")
    text = name if isinstance(name, str) and name else "(unnamed)"
    if isinstance(namespace, str) and namespace:
        text = f"{namespace}/{text}"
    return f"{kind} {text}"


def _object_facts(meta: Obj, api_version: str) -> dict[str, Any]:
    annotations = meta.strmap("annotations")
    for key in DROPPED_ANNOTATIONS:
        annotations.pop(key, None)
    return {
        "api_version": api_version,
        "object_uid": meta.opt_str("uid"),
        "labels": meta.strmap("labels"),
        "annotations": annotations,
        "owner_references": [
            {
                "kind": ref.text("kind"),
                "name": ref.text("name"),
                "api_version": ref.text("apiVersion"),
                "controller": ref.opt_bool("controller") is True,
            }
            for ref in meta.objs("ownerReferences")
        ],
    }


def normalise(scope: str, kind: str, obj: Any, api_version: str) -> Resource:
    """One object as a Resource. Raises :class:`MalformedObject` when it does not have
    the Kubernetes shape (see the module docstring)."""
    if not is_object(obj):
        raise MalformedObject(f"a {kind} item is {describe(obj)}, expected an object")
    meta = obj.get("metadata")
    if not is_object(meta) or not meta.get("name"):
        raise MalformedObject(f"a {kind} item has no metadata.name")
    label = _label(kind, meta)
    try:
        root = Obj(obj)
        metadata = root.obj("metadata")
        name = metadata.req_str("name")
        namespace = metadata.text("namespace")
        attrs = _object_facts(metadata, api_version)
        attrs.update(NORMALISERS[kind](root))
        created = metadata.opt_str("creationTimestamp")
        version = metadata.opt_str("resourceVersion")
    except Shape as exc:
        raise MalformedObject(f"{label}: {exc}") from None
    return Resource(
        uid=k8s_uid(scope, kind, name, namespace or None),
        provider=PROVIDER,
        scope=scope,
        kind=kind,
        name=name,
        namespace=namespace,
        attrs=attrs,
        created_at=timestamp(created),
        source_version=f"{NORMALISER_VERSION}:{api_version}:{version}" if version else None,
    )


def malformed_reason(messages: list[str]) -> str:
    """Why a kind is unknown after malformed objects were dropped: the first one, and how
    many more."""
    more = len(messages) - 1
    suffix = f" (and {more} more malformed object{'s' if more > 1 else ''})" if more else ""
    return f"{messages[0]}{suffix}; malformed objects are dropped, not judged"


def cluster_resource(scope: str, attrs: ClusterFacts) -> Resource:
    """The synthetic ``Cluster`` resource (its attrs: ``facts.kubernetes.ClusterFacts``)."""
    return Resource(
        uid=k8s_uid(scope, CLUSTER_KIND, scope),
        provider=PROVIDER,
        scope=scope,
        kind=CLUSTER_KIND,
        name=scope,
        attrs=dict(attrs),
    )
