"""Facts of the Kubernetes kinds, as :mod:`postureapp.collectors.kubernetes.normalise`
writes them (live and offline alike).

Conventions: an optional boolean that is not set is ``None``, not ``False``
(Kubernetes defaults differ from "false"); lists keep the source order; a *selector*
that is empty selects everything; nothing here is ever a secret value. What the types
cannot say is in the normaliser's docstring. The pod-template kinds (Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) are in
:mod:`postureapp.facts.kubernetes_workloads`.
"""

from __future__ import annotations

from typing import Any, Literal

# typing_extensions: pydantic (the conformance tests) validates TypedDicts only from it
# before Python 3.12.
from typing_extensions import TypedDict

from postureapp.facts.base import register

PROVIDER = "kubernetes"


class OwnerReference(TypedDict):
    kind: str
    name: str
    api_version: str
    controller: bool


class ObjectFacts(TypedDict):
    """What every Kubernetes kind has."""

    api_version: str
    object_uid: str | None  # metadata.uid: changes when the object is re-created
    labels: dict[str, str]
    # kubectl.kubernetes.io/last-applied-configuration is always dropped: it can hold a
    # whole Secret, data included, or a pod's literal env values.
    annotations: dict[str, str]
    owner_references: list[OwnerReference]


class SelectorRequirement(TypedDict):
    key: str
    operator: str
    values: list[str]


class LabelSelector(TypedDict):
    match_labels: dict[str, str]
    match_expressions: list[SelectorRequirement]


# -- Namespace, ServiceAccount, RBAC -----------------------------------------------------


class PodSecurityLabels(TypedDict):
    enforce: str | None
    enforce_version: str | None
    audit: str | None
    audit_version: str | None
    warn: str | None
    warn_version: str | None


class NamespaceFacts(ObjectFacts):
    phase: str | None
    pod_security: PodSecurityLabels


class ServiceAccountFacts(ObjectFacts):
    automount_service_account_token: bool | None
    irsa_role_arn: str | None  # the eks.amazonaws.com/role-arn annotation
    image_pull_secrets: list[str]
    secrets: list[str]


class PolicyRule(TypedDict):
    api_groups: list[str]
    resources: list[str]
    verbs: list[str]
    resource_names: list[str]
    non_resource_urls: list[str]


class RoleFacts(ObjectFacts):
    rules: list[PolicyRule]


class AggregationRule(TypedDict):
    cluster_role_selectors: list[LabelSelector]


class ClusterRoleFacts(RoleFacts):
    aggregation_rule: AggregationRule | None


class RoleRef(TypedDict):
    api_group: str | None
    kind: str
    name: str


class Subject(TypedDict):
    kind: str
    name: str
    namespace: str | None
    api_group: str | None


class BindingFacts(ObjectFacts):
    role_ref: RoleRef
    subjects: list[Subject]


# -- Services, Ingresses, NetworkPolicies -------------------------------------------------


class LoadBalancerIngress(TypedDict):
    ip: str | None
    hostname: str | None


class ServicePort(TypedDict):
    name: str | None
    protocol: str
    port: int
    target_port: int | str
    node_port: int | None


class ServiceFacts(ObjectFacts):
    type: str  # ClusterIP | NodePort | LoadBalancer | ExternalName
    cluster_ip: str | None
    external_ips: list[str]
    external_name: str | None
    ports: list[ServicePort]
    selector: dict[str, str]  # {} when none: selects no pods
    load_balancer_ingress: list[LoadBalancerIngress]
    load_balancer_source_ranges: list[str]
    load_balancer_class: str | None
    external_traffic_policy: str | None


class TypedReference(TypedDict):
    kind: str | None
    name: str | None


class IngressBackend(TypedDict):
    service: str | None
    port: int | str | None
    resource: TypedReference | None


class IngressTLS(TypedDict):
    hosts: list[str]
    secret_name: str | None


class IngressPath(TypedDict):
    host: str  # "*" for a rule without host
    path: str | None
    path_type: str | None
    backend: IngressBackend


class IngressFacts(ObjectFacts):
    ingress_class: str | None
    hosts: list[str]
    tls: list[IngressTLS]
    tls_hosts: list[str]
    hosts_without_tls: list[str]
    paths: list[IngressPath]
    default_backend: IngressBackend | None
    backend_services: list[str]
    load_balancer_ingress: list[LoadBalancerIngress]


# "except" is a keyword: the functional syntax is the only way to name the key.
IPBlock = TypedDict("IPBlock", {"cidr": str | None, "except": list[str]})


class NetworkPolicyPeer(TypedDict):
    pod_selector: LabelSelector | None
    namespace_selector: LabelSelector | None
    ip_block: IPBlock | None


class NetworkPolicyPort(TypedDict):
    protocol: str
    port: int | str | None
    end_port: int | None


class NetworkPolicyRule(TypedDict):
    peers: list[NetworkPolicyPeer]  # [] = any source or destination
    ports: list[NetworkPolicyPort]


class NetworkPolicyFacts(ObjectFacts):
    pod_selector: LabelSelector
    selects_all_pods: bool
    policy_types: list[str]  # effective: as written, else Ingress (+ Egress with rules)
    ingress: list[NetworkPolicyRule]
    egress: list[NetworkPolicyRule]
    default_deny_ingress: bool
    default_deny_egress: bool
    allows_all_ingress: bool


# -- admission, secrets ------------------------------------------------------------------


class WebhookService(TypedDict):
    namespace: str | None
    name: str | None
    port: int | None
    path: str | None


class WebhookClient(TypedDict):
    service: WebhookService | None
    url: str | None


class WebhookRule(TypedDict):
    operations: list[str]
    api_groups: list[str]
    api_versions: list[str]
    resources: list[str]
    scope: str | None


class Webhook(TypedDict):
    name: str
    failure_policy: str | None
    side_effects: str | None
    timeout_seconds: int | None
    match_policy: str | None
    reinvocation_policy: str | None
    client: WebhookClient  # caBundle is dropped
    rules: list[WebhookRule]
    namespace_selector: LabelSelector | None
    object_selector: LabelSelector | None


class WebhookConfigurationFacts(ObjectFacts):
    webhook_names: list[str]
    webhooks: list[Webhook]


class SecretFacts(ObjectFacts):
    # One of normalise.SECRET_TYPES or "other"; None when it could not be determined.
    type: str | None
    legacy_token_last_used: str | None
    legacy_token_invalid_since: str | None
    service_account: str | None  # the kubernetes.io/service-account.name annotation


# -- Istio -------------------------------------------------------------------------------


class PeerAuthenticationFacts(ObjectFacts):
    # None: the whole namespace (the mesh, in the root namespace).
    selector: dict[str, str] | None
    mtls_mode: str  # STRICT | PERMISSIVE | DISABLE | UNSET
    port_level_mtls: dict[str, str]


class AuthorizationPolicyFacts(ObjectFacts):
    action: str  # ALLOW (the default), DENY, AUDIT, CUSTOM
    selector: dict[str, str] | None
    target_refs: list[dict[str, Any]]  # verbatim
    provider: str | None
    rules: list[dict[str, Any]]  # verbatim from the spec, camelCase
    rule_count: int


class OutlierDetection(TypedDict):
    consecutive_5xx_errors: int | None
    consecutive_gateway_errors: int | None
    interval: str | None
    base_ejection_time: str | None
    max_ejection_percent: int | None


class ConnectionPool(TypedDict):
    max_connections: int | None
    connect_timeout: str | None
    http1_max_pending_requests: int | None
    http2_max_requests: int | None
    max_requests_per_connection: int | None
    max_retries: int | None


class DestinationRuleSubset(TypedDict):
    name: str | None
    tls_mode: str | None
    circuit_breaking: bool  # outlier detection or connection-pool limits of its own


class DestinationRuleFacts(ObjectFacts):
    host: str | None
    tls_mode: str | None
    port_level_tls: dict[str, str | None]
    subsets: list[DestinationRuleSubset]
    export_to: list[str]
    outlier_detection: OutlierDetection | None  # host-wide trafficPolicy
    connection_pool: ConnectionPool | None


class ConfigPatch(TypedDict):
    apply_to: str | None
    context: str | None  # SIDECAR_INBOUND | SIDECAR_OUTBOUND | GATEWAY | ANY
    operation: str | None
    rate_limit_filter: str | None  # the Envoy rate-limit filter it adds


class EnvoyFilterFacts(ObjectFacts):
    # None: every proxy of the namespace (of the mesh, in the root namespace).
    workload_selector: dict[str, str] | None
    target_refs: list[TypedReference]
    config_patches: list[ConfigPatch]
    rate_limit_filters: list[str]  # sorted, unique


# -- policy/v1, Gateway API, cert-manager, Gatekeeper, Kyverno ----------------------------


class PodDisruptionBudgetFacts(ObjectFacts):
    selector: LabelSelector | None
    min_available: int | str | None  # a count or a percentage
    max_unavailable: int | str | None
    unhealthy_pod_eviction_policy: str | None
    expected_pods: int | None
    current_healthy: int | None
    desired_healthy: int | None
    disruptions_allowed: int | None


class CertificateRef(TypedDict):
    kind: str
    name: str | None
    namespace: str | None


class Listener(TypedDict):
    name: str | None
    protocol: str | None
    port: int | None
    hostname: str | None
    tls_mode: str | None
    certificate_refs: list[CertificateRef]
    allowed_routes_from: str | None


class GatewayFacts(ObjectFacts):
    gateway_class: str | None
    listeners: list[Listener]
    addresses: list[str]  # from status


class ParentRef(TypedDict):
    kind: str
    name: str | None
    namespace: str | None
    section_name: str | None
    port: int | None


class BackendRef(TypedDict):
    kind: str
    name: str | None
    namespace: str | None
    port: int | None


class HTTPRouteFacts(ObjectFacts):
    hostnames: list[str]
    parent_refs: list[ParentRef]
    backends: list[BackendRef]
    rule_count: int


class IssuerRef(TypedDict):
    name: str | None
    kind: str
    group: str


class PrivateKey(TypedDict):
    algorithm: str | None
    size: int | None
    rotation_policy: str | None


class CertificateFacts(ObjectFacts):
    secret_name: str | None
    common_name: str | None
    dns_names: list[str]
    issuer_ref: IssuerRef
    duration: str | None
    renew_before: str | None
    private_key: PrivateKey
    not_before: str | None  # ISO 8601, from status
    not_after: str | None
    renewal_time: str | None
    ready: bool | None  # the Ready condition


class ConstraintTemplateFacts(ObjectFacts):
    constraint_kind: str | None
    targets: list[str]
    created: bool | None


class KyvernoRule(TypedDict):
    name: str | None
    types: list[str]  # validate, mutate, generate, verifyImages
    failure_action: str | None


class KyvernoPolicyFacts(ObjectFacts):
    validation_failure_action: str | None  # Enforce | Audit
    background: bool | None
    rules: list[KyvernoRule]
    rule_count: int
    ready: bool | None


# -- the synthetic Cluster ---------------------------------------------------------------


class ClusterVersion(TypedDict):
    git_version: str | None
    major: str | None
    minor: str | None
    platform: str | None


class ClusterFacts(TypedDict):
    """One per live context or offline dump (not a Kubernetes object: no metadata)."""

    source: Literal["live", "offline"]
    context: str
    server: str | None  # the API server URL; None offline
    in_cluster: bool
    version: ClusterVersion | None  # None when /version could not be read (or offline)
    api_groups: list[str] | None  # None when discovery failed (or a dump did not say)
    # istio, gateway_api, cert_manager, gatekeeper, kyverno -> installed?; None: unknown
    installed: dict[str, bool | None]
    crds: dict[str, str]  # optional kind -> the apiVersion read


for _kind, _facts in (
    ("Namespace", NamespaceFacts),
    ("ServiceAccount", ServiceAccountFacts),
    ("Role", RoleFacts),
    ("ClusterRole", ClusterRoleFacts),
    ("RoleBinding", BindingFacts),
    ("ClusterRoleBinding", BindingFacts),
    ("Service", ServiceFacts),
    ("Ingress", IngressFacts),
    ("NetworkPolicy", NetworkPolicyFacts),
    ("ValidatingWebhookConfiguration", WebhookConfigurationFacts),
    ("MutatingWebhookConfiguration", WebhookConfigurationFacts),
    ("Secret", SecretFacts),
    ("PeerAuthentication", PeerAuthenticationFacts),
    ("AuthorizationPolicy", AuthorizationPolicyFacts),
    ("DestinationRule", DestinationRuleFacts),
    ("EnvoyFilter", EnvoyFilterFacts),
    ("PodDisruptionBudget", PodDisruptionBudgetFacts),
    ("Gateway", GatewayFacts),
    ("HTTPRoute", HTTPRouteFacts),
    ("Certificate", CertificateFacts),
    ("ConstraintTemplate", ConstraintTemplateFacts),
    ("ClusterPolicy", KyvernoPolicyFacts),
    ("Policy", KyvernoPolicyFacts),
    ("Cluster", ClusterFacts),
):
    register(PROVIDER, _kind, _facts)
