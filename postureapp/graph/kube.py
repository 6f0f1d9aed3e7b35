"""The Kubernetes half of the graph: endpoints, workloads, service accounts, RBAC."""

from __future__ import annotations

from collections import defaultdict

from postureapp.domain.kubernetes import rbac
from postureapp.domain.kubernetes.exposure import lb_internal, source_ranges
from postureapp.domain.kubernetes.objects import (
    is_mirror_pod,
    qualified,
    selected_pods,
    workload_of,
)
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import HTTPRouteFacts, IngressFacts, ServiceFacts
from postureapp.facts.kubernetes_workloads import PodFacts
from postureapp.graph.graph import Graph
from postureapp.graph.model import (
    ADMIN,
    BOUND_TO,
    ENDPOINT,
    ESCALATE,
    EXPOSES,
    K8S_GROUP,
    K8S_ROLE,
    K8S_USER,
    KUBERNETES,
    READ_SECRETS,
    RUNS_AS,
    SERVICE_ACCOUNT,
    WORKLOAD,
    Edge,
    Grant,
    Node,
    Permission,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, k8s_uid

PROVIDER = "kubernetes"
# What the Kubernetes half reads; a scope missing any of them is a gap.
NEEDED = (
    "Pod",
    "Service",
    "Ingress",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
)
_OPEN = frozenset({"0.0.0.0/0", "::/0"})
_ESCALATION = (rbac.BIND, rbac.ESCALATE, rbac.IMPERSONATE)
_SA_USER = "system:serviceaccount:"


def sa_uid(scope: str, namespace: str, name: str) -> str:
    return k8s_uid(scope, "ServiceAccount", name, namespace)


def service_exposure(service: Resource) -> tuple[bool, str] | None:
    """(internet-facing, why) for a Service reachable from outside the cluster, or None."""
    kind = facts_of(service, ServiceFacts).get("type")
    ranges = source_ranges(service)
    if kind == "LoadBalancer":
        internal = lb_internal(service)
        addresses = [
            str(i.get("hostname") or i.get("ip"))
            for i in facts_of(service, ServiceFacts).get("load_balancer_ingress") or []
            if i.get("hostname") or i.get("ip")
        ]
        where = ", ".join(addresses) or "address pending"
        if internal:
            return False, f"internal LoadBalancer ({internal})"
        if ranges and not set(ranges) & _OPEN:
            return False, f"LoadBalancer {where} limited to {', '.join(ranges)}"
        return True, f"internet-facing LoadBalancer {where}"
    if kind == "NodePort":
        ports = ", ".join(
            str(p.get("node_port"))
            for p in facts_of(service, ServiceFacts).get("ports") or []
            if isinstance(p, dict)
        )
        return (
            True,
            f"NodePort {ports} on every node (node addresses not collected: assumed public)",
        )
    if facts_of(service, ServiceFacts).get("external_ips"):
        return True, f"externalIPs {', '.join(facts_of(service, ServiceFacts)['external_ips'])}"
    return None


class KubeBuilder:
    """Adds the cluster's nodes and edges to a graph."""

    def __init__(self, inv: Inventory, graph: Graph) -> None:
        self.inv = inv
        self.graph = graph
        self.pods: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for pod in inv.of(PROVIDER, "Pod"):
            if not is_mirror_pod(pod):
                self.pods[(pod.scope, pod.namespace)].append(pod)

    def build(self) -> None:
        for scope in sorted(self.inv.scopes(PROVIDER)):
            reason = self.inv.why_unknown(PROVIDER, scope, NEEDED)
            if reason:
                self.graph.gaps[f"k8s://{scope}"] = reason
        blind = self.inv.blind_providers().get(PROVIDER)
        if blind:
            self.graph.gaps["k8s://*"] = blind
        self._workloads()
        self._services()
        self._rbac()

    # -- workloads ---------------------------------------------------------------------

    def _workloads(self) -> None:
        self.workload_of_pod: dict[str, str] = {}
        for pods in self.pods.values():
            for pod in pods:
                workload = workload_of(pod, self.inv)
                node = self.graph.add_node(
                    Node(
                        workload.uid,
                        WORKLOAD,
                        f"{workload.namespace}/{workload.name}",
                        KUBERNETES,
                        detail=workload.kind,
                        facts={"scope": pod.scope, "namespace": pod.namespace, "pods": []},
                    )
                )
                node.facts["pods"].append(pod.name)
                self.workload_of_pod[pod.uid] = workload.uid
                self.graph.aliases[pod.uid] = workload.uid
                account = str(facts_of(pod, PodFacts).get("service_account") or "default")
                uid = sa_uid(pod.scope, pod.namespace, account)
                sa = self.inv.get(uid)
                self.graph.add_node(
                    Node(
                        uid,
                        SERVICE_ACCOUNT,
                        f"{pod.namespace}/{account}",
                        KUBERNETES,
                        detail="ServiceAccount" if sa else "ServiceAccount (not in inventory)",
                        facts={"scope": pod.scope, "namespace": pod.namespace, "name": account},
                    )
                )
                self.graph.add_edge(
                    Edge(
                        workload.uid,
                        uid,
                        RUNS_AS,
                        {
                            "service_account": account,
                            "via": f"spec.serviceAccountName of {pod.name}",
                        },
                    )
                )

    # -- endpoints ---------------------------------------------------------------------

    def _service_node(self, service: Resource, internet: bool, why: str) -> Node:
        return self.graph.add_node(
            Node(
                service.uid,
                ENDPOINT,
                qualified(service),
                KUBERNETES,
                detail=f"Service ({facts_of(service, ServiceFacts).get('type') or 'ClusterIP'})",
                internet=internet,
                facts={"why": why, "scope": service.scope},
            )
        )

    def _link_service(self, service: Resource) -> None:
        selector = facts_of(service, ServiceFacts).get("selector") or {}
        for pod in selected_pods(service, self.pods):
            workload = self.workload_of_pod.get(pod.uid)
            if workload is None:
                continue
            text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            self.graph.add_edge(
                Edge(service.uid, workload, EXPOSES, {"selector": text, "pod": pod.name})
            )

    def _services(self) -> None:
        services: dict[tuple[str, str, str], Resource] = {}
        for service in self.inv.of(PROVIDER, "Service"):
            services[(service.scope, service.namespace, service.name)] = service
            exposure = service_exposure(service)
            if exposure is None:
                continue
            internet, why = exposure
            self._service_node(service, internet, why)
            self._link_service(service)
        for ingress in self.inv.of(PROVIDER, "Ingress"):
            hosts = ", ".join(facts_of(ingress, IngressFacts).get("hosts") or []) or "any host"
            self.graph.add_node(
                Node(
                    ingress.uid,
                    ENDPOINT,
                    qualified(ingress),
                    KUBERNETES,
                    detail="Ingress",
                    internet=True,
                    facts={"why": f"Ingress for {hosts}", "scope": ingress.scope},
                )
            )
            for name in facts_of(ingress, IngressFacts).get("backend_services") or []:
                backend = services.get((ingress.scope, ingress.namespace, str(name)))
                if backend is None:
                    continue
                if backend.uid not in self.graph.nodes:
                    self._service_node(backend, False, f"backend of Ingress {qualified(ingress)}")
                    self._link_service(backend)
                self.graph.add_edge(
                    Edge(ingress.uid, backend.uid, EXPOSES, {"backend": str(name), "hosts": hosts})
                )
        for route in self.inv.of(PROVIDER, "HTTPRoute"):
            hosts = ", ".join(facts_of(route, HTTPRouteFacts).get("hostnames") or []) or "any host"
            node_added = False
            for backend_ref in facts_of(route, HTTPRouteFacts).get("backends") or []:
                if (backend_ref.get("kind") or "Service") != "Service":
                    continue
                ns = backend_ref.get("namespace") or route.namespace
                backend = services.get((route.scope, ns, str(backend_ref.get("name"))))
                if backend is None:
                    continue
                if not node_added:
                    self.graph.add_node(
                        Node(
                            route.uid,
                            ENDPOINT,
                            qualified(route),
                            KUBERNETES,
                            detail="HTTPRoute",
                            internet=True,
                            facts={"why": f"HTTPRoute for {hosts}", "scope": route.scope},
                        )
                    )
                    node_added = True
                if backend.uid not in self.graph.nodes:
                    self._service_node(backend, False, f"backend of HTTPRoute {qualified(route)}")
                    self._link_service(backend)
                self.graph.add_edge(
                    Edge(route.uid, backend.uid, EXPOSES, {"backend": backend.name, "hosts": hosts})
                )

    # -- RBAC --------------------------------------------------------------------------

    def _accounts(self) -> None:
        """Every collected ServiceAccount is a node, run by a pod or not: a token can be
        minted for any of them, and the blast radius starts from each."""
        for account in self.inv.of(PROVIDER, "ServiceAccount"):
            self.graph.add_node(
                Node(
                    account.uid,
                    SERVICE_ACCOUNT,
                    f"{account.namespace}/{account.name}",
                    KUBERNETES,
                    detail="ServiceAccount",
                    facts={
                        "scope": account.scope,
                        "namespace": account.namespace,
                        "name": account.name,
                    },
                )
            )

    def _rbac(self) -> None:
        self._accounts()
        index = rbac.index(self.inv)
        accounts = {n.uid: n for n in self.graph.of_kind(SERVICE_ACCOUNT)}
        by_namespace: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_scope: dict[str, list[str]] = defaultdict(list)
        for uid, node in accounts.items():
            by_namespace[(node.facts["scope"], node.facts["namespace"])].append(uid)
            by_scope[node.facts["scope"]].append(uid)
        known = {scope: set(uids) for scope, uids in by_scope.items()}  # once, not per binding
        bindings = [
            *self.inv.of(PROVIDER, "ClusterRoleBinding"),
            *self.inv.of(PROVIDER, "RoleBinding"),
        ]
        for binding in sorted(bindings, key=lambda r: r.uid):
            try:
                grant = index.grant(binding)
            except (AttributeError, TypeError, ValueError):  # not the documented shape
                self.graph.gaps[binding.uid] = "binding not in the collector's documented shape"
                continue
            perms = _grant_permissions(grant)
            if not perms:
                continue
            scope = grant.binding.scope
            role_uid = k8s_uid(
                scope,
                grant.role_kind,
                grant.role_name,
                grant.binding.namespace if grant.role_kind == "Role" else None,
            )
            holders = [
                *_subject_accounts(grant, scope, by_namespace, by_scope, known),
                *self._people(grant, scope),
            ]
            for account in holders:
                self.graph.add_node(
                    Node(role_uid, K8S_ROLE, grant.role_name, KUBERNETES, detail=grant.role_kind)
                )
                self.graph.add_edge(
                    Edge(
                        account,
                        role_uid,
                        BOUND_TO,
                        {"binding": grant.binding_label, "where": grant.where},
                    )
                )
                held = self.graph.edge_permissions.setdefault((account, role_uid), [])
                held.extend(p for p in perms if p not in held)

    def _people(self, grant: rbac.Grant, scope: str) -> list[str]:
        """Nodes for a binding's User and Group subjects (a ServiceAccount's token user
        name is its account, not a User), so the blast radius starts from them too."""
        found = []
        for subject in grant.subjects:
            if subject.kind not in ("User", "Group") or subject.name.startswith(_SA_USER):
                continue
            uid = k8s_uid(scope, subject.kind, subject.name)
            kind = K8S_USER if subject.kind == "User" else K8S_GROUP
            self.graph.add_node(
                Node(
                    uid, kind, subject.name, KUBERNETES, detail=subject.kind, facts={"scope": scope}
                )
            )
            found.append(uid)
        return found


def _subject_accounts(
    grant: rbac.Grant,
    scope: str,
    by_namespace: dict[tuple[str, str], list[str]],
    by_scope: dict[str, list[str]],
    known: dict[str, set[str]],
) -> list[str]:
    """The graph's service accounts a binding's subjects include (groups too)."""
    found: list[str] = []
    for subject in grant.subjects:
        if subject.kind == "ServiceAccount":
            found.append(sa_uid(scope, subject.namespace, subject.name))
        elif subject.kind == "User" and subject.name.startswith(_SA_USER):
            # A token authenticates as this user name, so such a binding grants the
            # service account exactly what a ServiceAccount subject would.
            namespace, _, name = subject.name[len(_SA_USER) :].partition(":")
            if namespace and name and ":" not in name:
                found.append(sa_uid(scope, namespace, name))
        elif subject.kind == "Group" and subject.name in (
            "system:serviceaccounts",
            "system:authenticated",
        ):
            found.extend(by_scope.get(scope, []))
        elif subject.kind == "Group" and subject.name.startswith("system:serviceaccounts:"):
            namespace = subject.name.split(":", 2)[2]
            found.extend(by_namespace.get((scope, namespace), []))
    accounts = known.get(scope, set())
    return [uid for uid in dict.fromkeys(found) if uid in accounts]


def _grant_permissions(grant: rbac.Grant) -> list[Permission]:
    """What one binding confers, per capability, with the rules that confer it."""
    perms: list[Permission] = []

    def add(capability: str, rules: list[rbac.Rule]) -> None:
        if rules:
            grants = tuple(
                Grant(
                    text=f"{grant.describe()}: {rule.describe()}",
                    source=grant.binding_label,
                    resource=grant.where,
                )
                for rule in rules
            )
            perms.append(Permission(capability, KUBERNETES, grants))

    admin = rbac.admin_rules(grant) if grant.cluster_wide else []
    add(ADMIN, admin)
    if admin:
        return perms
    add(READ_SECRETS, rbac.READ_SECRETS.matching(grant))
    escalation: list[rbac.Rule] = []
    for capability in _ESCALATION:
        escalation.extend(r for r in capability.matching(grant) if r not in escalation)
    add(ESCALATE, escalation)
    return perms
