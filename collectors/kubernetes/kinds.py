"""What the Kubernetes collector reads: one :class:`KindSpec` per emitted kind.

The live collector, the offline loader, the permissions ClusterRole and its drift test
all read this one table, so adding a kind here is the whole of "teaching" postureapp a
kind (plus its normaliser in :mod:`postureapp.collectors.kubernetes.normalise`).
"""

from __future__ import annotations

from dataclasses import dataclass

# What runs pods, judged from its pod template; re-exported for the collector and loader.
from postureapp.facts.kubernetes_workloads import CONTROLLER_KINDS  # noqa: F401


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: str
    group: str  # "" for the core group
    plural: str
    namespaced: bool
    versions: tuple[str, ...]  # versions we can read, preferred first
    list_method: tuple[str, str] | None = None  # (client API class, method) for built-ins
    product: str | None = None  # the add-on whose CRD serves it, for optional kinds
    short_names: tuple[str, ...] = ()  # kubectl's short names (an offline file may use one)

    @property
    def builtin(self) -> bool:
        return self.list_method is not None

    @property
    def qualified(self) -> str:
        """``secrets`` or ``peerauthentications.security.istio.io``, as RBAC names it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str | None = None) -> str:
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version

    @property
    def names(self) -> frozenset[str]:
        """Every name ``kubectl get`` accepts for it, lower-cased: plural, singular, kind,
        short names, and ``plural.group``."""
        names = {self.plural, self.kind.lower(), self.qualified, *self.short_names}
        return frozenset(name.lower() for name in names)


def _core(
    kind: str,
    plural: str,
    namespaced: bool,
    api: str,
    method: str,
    group: str = "",
    short: tuple[str, ...] = (),
) -> KindSpec:
    return KindSpec(kind, group, plural, namespaced, ("v1",), (api, method), short_names=short)


_RBAC = "rbac.authorization.k8s.io"
_ADMISSION = "admissionregistration.k8s.io"


BUILTIN_KINDS: tuple[KindSpec, ...] = (
    _core("Namespace", "namespaces", False, "CoreV1Api", "list_namespace", short=("ns",)),
    _core("ServiceAccount", "serviceaccounts", True, "CoreV1Api",
          "list_service_account_for_all_namespaces", short=("sa",)),
    _core("Pod", "pods", True, "CoreV1Api", "list_pod_for_all_namespaces", short=("po",)),
    _core("Service", "services", True, "CoreV1Api", "list_service_for_all_namespaces",
          short=("svc",)),
    # Secrets are only ever listed as PartialObjectMetadataList: see collector._list_secrets.
    _core("Secret", "secrets", True, "CoreV1Api", "list_secret_for_all_namespaces"),
    _core("Role", "roles", True, "RbacAuthorizationV1Api", "list_role_for_all_namespaces",
          _RBAC),
    _core("ClusterRole", "clusterroles", False, "RbacAuthorizationV1Api", "list_cluster_role",
          _RBAC),
    _core("RoleBinding", "rolebindings", True, "RbacAuthorizationV1Api",
          "list_role_binding_for_all_namespaces", _RBAC),
    _core("ClusterRoleBinding", "clusterrolebindings", False, "RbacAuthorizationV1Api",
          "list_cluster_role_binding", _RBAC),
    # Workload controllers: judged from their pod templates, so a workload scaled to
    # zero, a CronJob that has not run yet or a DaemonSet's template is seen.
    _core("Deployment", "deployments", True, "AppsV1Api",
          "list_deployment_for_all_namespaces", "apps", ("deploy",)),
    _core("StatefulSet", "statefulsets", True, "AppsV1Api",
          "list_stateful_set_for_all_namespaces", "apps", ("sts",)),
    _core("DaemonSet", "daemonsets", True, "AppsV1Api",
          "list_daemon_set_for_all_namespaces", "apps", ("ds",)),
    _core("ReplicaSet", "replicasets", True, "AppsV1Api",
          "list_replica_set_for_all_namespaces", "apps", ("rs",)),
    _core("Job", "jobs", True, "BatchV1Api", "list_job_for_all_namespaces", "batch"),
    _core("CronJob", "cronjobs", True, "BatchV1Api", "list_cron_job_for_all_namespaces",
          "batch", ("cj",)),
    _core("Ingress", "ingresses", True, "NetworkingV1Api", "list_ingress_for_all_namespaces",
          "networking.k8s.io", ("ing",)),
    _core("NetworkPolicy", "networkpolicies", True, "NetworkingV1Api",
          "list_network_policy_for_all_namespaces", "networking.k8s.io", ("netpol",)),
    _core("PodDisruptionBudget", "poddisruptionbudgets", True, "PolicyV1Api",
          "list_pod_disruption_budget_for_all_namespaces", "policy", ("pdb",)),
    _core("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False,
          "AdmissionregistrationV1Api", "list_validating_webhook_configuration", _ADMISSION),
    _core("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False,
          "AdmissionregistrationV1Api", "list_mutating_webhook_configuration", _ADMISSION),
)  # fmt: skip

# Read only when discovery says the add-on is installed.
OPTIONAL_KINDS: tuple[KindSpec, ...] = (
    KindSpec("PeerAuthentication", "security.istio.io", "peerauthentications", True,
             ("v1", "v1beta1"), product="istio", short_names=("pa",)),
    KindSpec("AuthorizationPolicy", "security.istio.io", "authorizationpolicies", True,
             ("v1", "v1beta1"), product="istio", short_names=("ap",)),
    KindSpec("DestinationRule", "networking.istio.io", "destinationrules", True,
             ("v1", "v1beta1", "v1alpha3"), product="istio", short_names=("dr",)),
    KindSpec("EnvoyFilter", "networking.istio.io", "envoyfilters", True, ("v1alpha3",),
             product="istio"),
    KindSpec("Gateway", "gateway.networking.k8s.io", "gateways", True, ("v1", "v1beta1"),
             product="gateway_api", short_names=("gtw",)),
    KindSpec("HTTPRoute", "gateway.networking.k8s.io", "httproutes", True, ("v1", "v1beta1"),
             product="gateway_api"),
    KindSpec("Certificate", "cert-manager.io", "certificates", True, ("v1",),
             product="cert_manager", short_names=("cert", "certs")),
    KindSpec("ConstraintTemplate", "templates.gatekeeper.sh", "constrainttemplates", False,
             ("v1", "v1beta1"), product="gatekeeper"),
    KindSpec("ClusterPolicy", "kyverno.io", "clusterpolicies", False, ("v1",),
             product="kyverno", short_names=("cpol",)),
    KindSpec("Policy", "kyverno.io", "policies", True, ("v1",), product="kyverno",
             short_names=("pol",)),
)  # fmt: skip

ALL_KINDS: tuple[KindSpec, ...] = BUILTIN_KINDS + OPTIONAL_KINDS
PRODUCTS: tuple[str, ...] = tuple(dict.fromkeys(s.product for s in OPTIONAL_KINDS if s.product))

# (group, kind) -> spec: Istio's networking.istio.io Gateway is not the Gateway API one.
BY_GROUP_KIND: dict[tuple[str, str], KindSpec] = {(s.group, s.kind): s for s in ALL_KINDS}

# The synthetic per-cluster resource checks hang cluster-wide findings on.
CLUSTER_KIND = "Cluster"

BY_KIND: dict[str, KindSpec] = {spec.kind: spec for spec in ALL_KINDS}


def named(name: str) -> KindSpec | None:
    """The kind ``kubectl get <name>`` would list (``networkpolicies``, ``netpol``,
    ``gateways.gateway.networking.k8s.io``...), or None. ``gateways`` alone is the
    Gateway API's (the one read), not Istio's."""
    wanted = name.strip().lower()
    return next((spec for spec in ALL_KINDS if wanted in spec.names), None)
