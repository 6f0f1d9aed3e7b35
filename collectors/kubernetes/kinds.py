"""What the Kubernetes collector reads: one :class:`KindSpec` per emitted kind.

The live collector, the offline loader, the permissions ClusterRole and its drift test
all read this one table, so adding a kind here is the whole of "teaching" postureapp a
kind (plus its normaliser in :mod:`postureapp.collectors.kubernetes.normalise`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: str
    group: str  # "" for the core group
    plural: str
    namespaced: bool
    versions: tuple[str, ...]  # versions we can read, preferred first
    list_method: tuple[str, str] | None = None  # (client API class, method) for built-ins
    product: str | None = None  # the add-on whose CRD serves it, for optional kinds

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


def _core(kind: str, plural: str, namespaced: bool, api: str, method: str, group: str = ""):
    return KindSpec(kind, group, plural, namespaced, ("v1",), (api, method))


BUILTIN_KINDS: tuple[KindSpec, ...] = (
    _core("Namespace", "namespaces", False, "CoreV1Api", "list_namespace"),
    _core("ServiceAccount", "serviceaccounts", True, "CoreV1Api",
          "list_service_account_for_all_namespaces"),
    _core("Pod", "pods", True, "CoreV1Api", "list_pod_for_all_namespaces"),
    _core("Service", "services", True, "CoreV1Api", "list_service_for_all_namespaces"),
    # Secrets are only ever listed as PartialObjectMetadataList: see collector._list_secrets.
    _core("Secret", "secrets", True, "CoreV1Api", "list_secret_for_all_namespaces"),
    _core("Role", "roles", True, "RbacAuthorizationV1Api", "list_role_for_all_namespaces",
          "rbac.authorization.k8s.io"),
    _core("ClusterRole", "clusterroles", False, "RbacAuthorizationV1Api", "list_cluster_role",
          "rbac.authorization.k8s.io"),
    _core("RoleBinding", "rolebindings", True, "RbacAuthorizationV1Api",
          "list_role_binding_for_all_namespaces", "rbac.authorization.k8s.io"),
    _core("ClusterRoleBinding", "clusterrolebindings", False, "RbacAuthorizationV1Api",
          "list_cluster_role_binding", "rbac.authorization.k8s.io"),
    _core("Ingress", "ingresses", True, "NetworkingV1Api", "list_ingress_for_all_namespaces",
          "networking.k8s.io"),
    _core("NetworkPolicy", "networkpolicies", True, "NetworkingV1Api",
          "list_network_policy_for_all_namespaces", "networking.k8s.io"),
    _core("PodDisruptionBudget", "poddisruptionbudgets", True, "PolicyV1Api",
          "list_pod_disruption_budget_for_all_namespaces", "policy"),
    _core("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False,
          "AdmissionregistrationV1Api", "list_validating_webhook_configuration",
          "admissionregistration.k8s.io"),
    _core("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False,
          "AdmissionregistrationV1Api", "list_mutating_webhook_configuration",
          "admissionregistration.k8s.io"),
)  # fmt: skip

# Read only when discovery says the add-on is installed.
OPTIONAL_KINDS: tuple[KindSpec, ...] = (
    KindSpec("PeerAuthentication", "security.istio.io", "peerauthentications", True,
             ("v1", "v1beta1"), product="istio"),
    KindSpec("AuthorizationPolicy", "security.istio.io", "authorizationpolicies", True,
             ("v1", "v1beta1"), product="istio"),
    KindSpec("DestinationRule", "networking.istio.io", "destinationrules", True,
             ("v1", "v1beta1", "v1alpha3"), product="istio"),
    KindSpec("EnvoyFilter", "networking.istio.io", "envoyfilters", True, ("v1alpha3",),
             product="istio"),
    KindSpec("Gateway", "gateway.networking.k8s.io", "gateways", True, ("v1", "v1beta1"),
             product="gateway_api"),
    KindSpec("HTTPRoute", "gateway.networking.k8s.io", "httproutes", True, ("v1", "v1beta1"),
             product="gateway_api"),
    KindSpec("Certificate", "cert-manager.io", "certificates", True, ("v1",),
             product="cert_manager"),
    KindSpec("ConstraintTemplate", "templates.gatekeeper.sh", "constrainttemplates", False,
             ("v1", "v1beta1"), product="gatekeeper"),
    KindSpec("ClusterPolicy", "kyverno.io", "clusterpolicies", False, ("v1",),
             product="kyverno"),
    KindSpec("Policy", "kyverno.io", "policies", True, ("v1",), product="kyverno"),
)  # fmt: skip

ALL_KINDS: tuple[KindSpec, ...] = BUILTIN_KINDS + OPTIONAL_KINDS
PRODUCTS: tuple[str, ...] = tuple(dict.fromkeys(s.product for s in OPTIONAL_KINDS if s.product))

# (group, kind) -> spec: Istio's networking.istio.io Gateway is not the Gateway API one.
BY_GROUP_KIND: dict[tuple[str, str], KindSpec] = {(s.group, s.kind): s for s in ALL_KINDS}

# The synthetic per-cluster resource checks hang cluster-wide findings on.
CLUSTER_KIND = "Cluster"
