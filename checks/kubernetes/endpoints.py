"""Endpoint checks: what the cluster exposes, and how traffic inside it is protected.

Services and Ingresses are judged one by one (admin UIs in :mod:`.admin_ui`).

The namespace checks (network policies, mesh mTLS) skip the control plane's namespaces
(kube-system, kube-public, kube-node-lease): their pods are the cluster's own plumbing,
which commonly cannot sit behind a default-deny policy or a sidecar. The mesh checks
read Istio, the one mesh the collector knows; the mesh root namespace is
``istio-system`` unless the ``istio_root_namespace`` setting says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes.exposure import (
    OPEN_RANGES,
    lb_addresses,
    lb_internal,
    ports_text,
    source_ranges,
)
from postureapp.domain.kubernetes.mesh import mesh_verdicts
from postureapp.domain.kubernetes.network import default_deny, policies_by_namespace
from postureapp.domain.kubernetes.objects import (
    PROVIDER,
    cluster_uid,
    installed,
    qualified,
    scopes_of,
    user_namespaces,
)
from postureapp.domain.text import names_list
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import IngressFacts, ServiceFacts
from postureapp.facts.kubernetes_workloads import (
    PodFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View

_SVC = "https://kubernetes.io/docs/concepts/services-networking/service/"
_NETPOL = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
_ISTIO_PA = "https://istio.io/latest/docs/reference/config/security/peer_authentication/"
_ISTIO_MTLS = "https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/"

# -- load balancers --------------------------------------------------------------------


@check(
    id="k8s-svc-loadbalancer",
    title="Service exposed by a load balancer",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Service",),
    remediation="""
Expose HTTP services through the Ingress or Gateway (one audited entry point with TLS
and authentication) and make the Service `type: ClusterIP`. If it must stay a load
balancer, make it internal (e.g. `service.beta.kubernetes.io/aws-load-balancer-scheme:
internal`) or restrict clients with `spec.loadBalancerSourceRanges: [<office CIDR>]`.""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.22"], "SOC 2": ["CC6.6"]},
    references=(f"{_SVC}#loadbalancer", f"{_SVC}#aws-nlb-support"),
    no_benchmark="no CIS recommendation on Services exposed by load balancers",
)
def load_balancer(inv: Inventory) -> Iterator[Result]:
    """Every Service is judged; type LoadBalancer fails. High by default, medium when
    ``loadBalancerSourceRanges`` excludes the world, low for an internal load balancer
    (cloud annotations, or an AWS Load Balancer Controller NLB without a scheme)."""
    for service in inv.of(PROVIDER, "Service"):
        kind = facts_of(service, ServiceFacts).get("type") or "ClusterIP"
        if kind != "LoadBalancer":
            yield Result(service, Status.PASS, detail=f"Service {qualified(service)} is {kind}")
            continue
        addresses = lb_addresses(service)
        ranges = source_ranges(service)
        internal = lb_internal(service)
        evidence: dict[str, Any] = {
            "ports": ports_text(service),
            "addresses": addresses,
            "source_ranges": ranges,
            "internal": internal,
        }
        where = f" at {', '.join(addresses)}" if addresses else " (address pending)"
        detail = f"LoadBalancer Service {qualified(service)} serves {ports_text(service)}{where}"
        severity = None
        if internal:
            severity = Severity.LOW
            detail += f"; internal ({internal})"
        elif ranges and not OPEN_RANGES.intersection(ranges):
            severity = Severity.MEDIUM
            detail += f"; clients limited to {', '.join(ranges)}"
        else:
            detail += "; open to any client that can reach the load balancer"
        yield Result(service, Status.FAIL, detail=detail, evidence=evidence, severity=severity)


@check(
    id="k8s-svc-nodeport",
    title="Service exposed on every node's port (NodePort)",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Service",),
    remediation="""
Change the Service to `type: ClusterIP` (`kubectl patch svc <name> -n <ns> -p
'{"spec":{"type":"ClusterIP"}}'`) and reach it through the Ingress or Gateway. A NodePort
opens the port on every node, past the load balancer's and the Ingress' controls.""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.22"], "SOC 2": ["CC6.6"]},
    references=(f"{_SVC}#type-nodeport",),
    no_benchmark="no CIS recommendation on NodePort Services",
)
def node_port(inv: Inventory) -> Iterator[Result]:
    """Every Service is judged; type NodePort fails (a LoadBalancer's node ports are
    covered by the load-balancer check)."""
    for service in inv.of(PROVIDER, "Service"):
        kind = facts_of(service, ServiceFacts).get("type") or "ClusterIP"
        if kind != "NodePort":
            yield Result(service, Status.PASS, detail=f"Service {qualified(service)} is {kind}")
            continue
        ports = ports_text(service, node_ports=True)
        yield Result(
            service,
            Status.FAIL,
            detail=f"NodePort Service {qualified(service)} opens {ports} on every node",
            evidence={"ports": ports},
        )


@check(
    id="k8s-svc-external-ips",
    title="Service with externalIPs",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Service",),
    remediation="""
Remove `spec.externalIPs` and use a LoadBalancer or Ingress. Nodes accept traffic for
those addresses, and whoever can set them can intercept another service's traffic
(CVE-2020-8554); block the field cluster-wide with the DenyServiceExternalIPs admission
plugin or a policy.""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.22"], "SOC 2": ["CC6.6"]},
    references=(f"{_SVC}#external-ips", "https://github.com/kubernetes/kubernetes/issues/97076"),
    no_benchmark="no CIS recommendation on externalIPs",
)
def external_ips(inv: Inventory) -> Iterator[Result]:
    """Every Service is judged; one with ``spec.externalIPs`` fails."""
    for service in inv.of(PROVIDER, "Service"):
        addresses = list(facts_of(service, ServiceFacts).get("external_ips") or [])
        if addresses:
            yield Result(
                service,
                Status.FAIL,
                detail=f"Service {qualified(service)} claims externalIPs {', '.join(addresses)}",
                evidence={"external_ips": addresses},
            )
        else:
            yield Result(service, Status.PASS, detail=f"Service {qualified(service)} has none")


@check(
    id="k8s-ingress-no-tls",
    title="Ingress serves hosts without TLS",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Ingress",),
    remediation="""
Add a `spec.tls` entry covering every host (`tls: [{hosts: [<host>], secretName:
<host>-tls}]`), e.g. with cert-manager's `cert-manager.io/cluster-issuer` annotation, and
give rules without a host one. Redirect plain HTTP to HTTPS at the controller
(`nginx.ingress.kubernetes.io/force-ssl-redirect: "true"`).""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.24", "A.5.14"], "SOC 2": ["CC6.7"]},
    references=("https://kubernetes.io/docs/concepts/services-networking/ingress/#tls",),
    controls=("encryption-in-transit",),
    no_benchmark="no CIS recommendation on Ingress TLS",
)
def ingress_without_tls(inv: Inventory) -> Iterator[Result]:
    """Every Ingress is judged; hosts not covered by ``spec.tls`` fail (``*`` is a rule
    without a host), as does a default backend when the Ingress has no TLS at all."""
    for ingress in inv.of(PROVIDER, "Ingress"):
        facts = facts_of(ingress, IngressFacts)
        plain = list(facts.get("hosts_without_tls") or [])
        if facts.get("default_backend") and not facts.get("tls"):
            plain.append("(default backend)")
        if plain:
            yield Result(
                ingress,
                Status.FAIL,
                detail=f"Ingress {qualified(ingress)} serves without TLS: {', '.join(plain)}",
                evidence={"hosts_without_tls": plain},
            )
        else:
            hosts = ", ".join(facts.get("hosts") or []) or "no hosts"
            yield Result(
                ingress, Status.PASS, detail=f"Ingress {qualified(ingress)}: TLS for {hosts}"
            )


# -- network policies ------------------------------------------------------------------


_NETPOL_REMEDIATION = """
Apply a default-deny ingress policy to the namespace, then allow what each service needs:
`kubectl apply -n <ns> -f - <<'EOF'`
`{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name:
default-deny-ingress}, spec: {podSelector: {}, policyTypes: [Ingress]}}`
`EOF`, plus one policy per allowed caller (podSelector + namespaceSelector + port).
Check that the CNI enforces NetworkPolicy (Calico, Cilium, the VPC CNI's policy agent)."""


@check(
    id="k8s-netpol-missing",
    title="Namespace without any NetworkPolicy",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Namespace", "NetworkPolicy"),
    remediation=_NETPOL_REMEDIATION,
    frameworks={
        "ISO 27001:2022": ["A.8.22", "A.8.20"],
        "CIS Kubernetes": ["5.3.2"],
        "SOC 2": ["CC6.6"],
    },
    references=(_NETPOL, f"{_NETPOL}#default-policies"),
    controls=("k8s-network-segmentation",),
)
def netpol_missing(inv: Inventory) -> Iterator[Result]:
    """A namespace (outside kube-system, kube-public, kube-node-lease) with no
    NetworkPolicy: every pod in it accepts traffic from any pod of the cluster."""
    policies = policies_by_namespace(inv)
    for namespace in user_namespaces(inv):
        found = sorted(p.name for p in policies.get((namespace.scope, namespace.name), []))
        if found:
            yield Result(
                namespace,
                Status.PASS,
                detail=f"namespace {namespace.name} has NetworkPolicies: {names_list(found)}",
                evidence={"policies": found},
            )
        else:
            yield Result(
                namespace,
                Status.FAIL,
                detail=f"namespace {namespace.name} has no NetworkPolicy: its pods accept "
                "traffic from every pod of the cluster",
                evidence={"policies": []},
            )


@check(
    id="k8s-netpol-default-deny",
    title="Namespace without default-deny ingress",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Namespace", "NetworkPolicy"),
    remediation=_NETPOL_REMEDIATION,
    frameworks={
        "ISO 27001:2022": ["A.8.22", "A.8.20"],
        "CIS Kubernetes": ["5.3.2"],
        "SOC 2": ["CC6.6"],
    },
    references=(f"{_NETPOL}#default-deny-all-ingress-traffic",),
    controls=("k8s-network-segmentation",),
)
def netpol_default_deny(inv: Inventory) -> Iterator[Result]:
    """A namespace (outside the control plane's) without a policy that selects every
    pod and allows no ingress, or whose default-deny another all-pods allow-all policy
    undoes. Without it, a pod no policy selects is open to the cluster."""
    policies = policies_by_namespace(inv)
    for namespace in user_namespaces(inv):
        ok, why = default_deny(policies.get((namespace.scope, namespace.name), []))
        yield Result(
            namespace,
            Status.PASS if ok else Status.FAIL,
            detail=f"namespace {namespace.name}: {why}",
            evidence={"default_deny_ingress": ok},
        )


# -- service mesh mTLS -----------------------------------------------------------------


@check(
    id="k8s-mesh-mtls",
    title="Service mesh accepts plaintext (mTLS not STRICT)",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Namespace", "Pod", "PeerAuthentication", "DestinationRule"),
    remediation="""
Once every client has a sidecar, require mTLS mesh-wide: `kubectl apply -n istio-system
-f -` with `{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata:
{name: default}, spec: {mtls: {mode: STRICT}}}`, delete namespace or workload
PeerAuthentications set to PERMISSIVE/DISABLE (and port-level exceptions), remove
DestinationRules with `tls.mode: DISABLE`, and label namespaces for injection
(`kubectl label ns <ns> istio-injection=enabled`, then restart their workloads).""",
    frameworks={
        "ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24", "A.5.14"],
        "SOC 2": ["CC6.7", "CC6.6"],
    },
    references=(_ISTIO_PA, _ISTIO_MTLS),
    controls=("k8s-mtls-between-services",),
    no_benchmark="no CIS recommendation on service-mesh mTLS",
)
def mesh_mtls(inv: Inventory) -> Iterator[Result]:
    """With Istio installed: a verdict for the mesh (on the Cluster: the PeerAuthentication
    without selector in the root namespace; none means Istio's default, PERMISSIVE) and
    one per namespace (its own namespace-wide PeerAuthentication, else the mesh's).
    Namespace-wide PERMISSIVE fails (DISABLE: high); a STRICT namespace fails as partial
    when a workload or port PeerAuthentication is PERMISSIVE/DISABLE or a DestinationRule
    there disables TLS; a namespace whose pods have no sidecar (and no injection label)
    fails as outside the mesh. Clusters without Istio are judged by k8s-mesh-absent."""
    for scope in scopes_of(inv, "Namespace", "PeerAuthentication"):
        state = installed(inv, scope, "istio")
        if state is None and inv.of(PROVIDER, "PeerAuthentication", scope):
            state = True
        if state is False:
            continue
        if state is None:
            yield Result(
                cluster_uid(scope),
                Status.UNKNOWN,
                detail="whether Istio is installed is unknown (discovery did not say)",
            )
            continue
        for verdict in mesh_verdicts(inv, scope):
            yield Result(
                verdict.namespace or cluster_uid(scope),
                verdict.status,
                detail=verdict.detail,
                evidence=verdict.evidence,
                severity=verdict.severity,
            )


@check(
    id="k8s-mesh-absent",
    title="No service mesh mTLS",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Encrypt and authenticate service-to-service traffic: install a mesh (Istio: `istioctl
install --set profile=minimal`, or ambient mode; Linkerd), label namespaces for
injection, and enforce STRICT mTLS. Until then, traffic between pods is plaintext and
any pod can call any service (pair with default-deny NetworkPolicies).""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24", "A.5.14"], "SOC 2": ["CC6.7"]},
    references=(
        "https://istio.io/latest/docs/concepts/security/#mutual-tls-authentication",
        _ISTIO_MTLS,
    ),
    controls=("k8s-mtls-between-services",),
    no_benchmark="no CIS recommendation on service-mesh mTLS",
)
def mesh_absent(inv: Inventory) -> Iterator[Result]:
    """On the Cluster: FAIL when discovery found no Istio, PASS when it did, UNKNOWN when
    discovery could not tell. Linkerd is not evaluated: when its proxies are seen the
    verdict is UNKNOWN rather than a false "no mesh"."""
    for scope in scopes_of(inv, "Namespace", "Pod"):
        state = installed(inv, scope, "istio")
        if state is None and inv.of(PROVIDER, "PeerAuthentication", scope):
            state = True
        uid = cluster_uid(scope)
        if state is True:
            yield Result(uid, Status.PASS, detail="Istio is installed", evidence={"mesh": "istio"})
            continue
        if state is None:
            yield Result(uid, Status.UNKNOWN, detail="whether Istio is installed is unknown")
            continue
        linkerd = any(
            c.get("name") == "linkerd-proxy"
            for pod in inv.of(PROVIDER, "Pod", scope)
            for c in facts_of(pod, PodFacts).get("containers") or []
        )
        if linkerd:
            yield Result(
                uid,
                Status.UNKNOWN,
                detail="Linkerd proxies run here; postureapp does not evaluate Linkerd's mTLS",
                evidence={"mesh": "linkerd"},
            )
            continue
        yield Result(
            uid,
            Status.FAIL,
            detail="no service mesh (Istio not installed): traffic between services is "
            "neither encrypted nor mutually authenticated by the platform",
            evidence={"mesh": None},
        )
