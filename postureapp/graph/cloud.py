"""The AWS half of the graph: endpoints, instances, IAM identities, and the links from
Kubernetes service accounts to IAM roles (IRSA, EKS Pod Identity)."""

from __future__ import annotations

from collections import defaultdict

from checks.aws.policy import Principals
from postureapp.graph import trust
from postureapp.graph.graph import Graph
from postureapp.graph.iam import IamIndex
from postureapp.graph.model import (
    ASSUMES,
    AWS,
    AWS_RESOURCE,
    CAN,
    ENDPOINT,
    EXPOSES,
    IAM_ROLE,
    IAM_USER,
    RUNS,
    SERVICE_ACCOUNT,
    WORKLOAD,
    Edge,
    Node,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource

PROVIDER = "aws"
IAM_NEEDED = ("IAMRole", "IAMPolicy", "IAMUser", "IAMGroup")
_PUBLIC_AUTH = ("NONE",)


def iam_scope(account: str) -> str:
    return f"{account}/global"


def role_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


class CloudBuilder:
    """Adds AWS nodes and edges, and links the cluster's service accounts to IAM."""

    def __init__(self, inv: Inventory, graph: Graph) -> None:
        self.inv = inv
        self.graph = graph
        self.iam = IamIndex(Principals(inv))
        self.roles = {r.uid: r for r in inv.of(PROVIDER, "IAMRole")}
        self._profiles: dict[str, Resource] = {}
        for role in self.roles.values():
            for profile in role.attrs.get("instance_profiles") or []:
                self._profiles[str(profile)] = role

    def build(self) -> None:
        accounts = {s.split("/", 1)[0] for s in self.inv.scopes(PROVIDER)}
        for account in sorted(accounts):
            reason = self.inv.why_unknown(PROVIDER, iam_scope(account), IAM_NEEDED)
            if reason:
                self.graph.gaps[f"aws://{account}"] = reason
        for reason in self.inv.blind_providers().values():
            self.graph.gaps.setdefault("aws://*", reason)
        self._identities()
        self._load_balancers()
        self._api_gateways()
        self._instances()
        self._service_accounts()

    # -- identities --------------------------------------------------------------------

    def identity_node(self, principal: Resource) -> Node:
        kind = IAM_USER if principal.kind == "IAMUser" else IAM_ROLE
        node = self.graph.add_node(
            Node(principal.uid, kind, principal.name, AWS, detail=principal.kind)
        )
        if principal.uid not in self.graph.permissions:
            perms, missing = self.iam.permissions(principal)
            self.graph.permissions[principal.uid] = perms
            if missing:
                self.graph.gaps[principal.uid] = "policies not collected: " + "; ".join(missing)
            for pattern, statement in self.iam.analysis(principal).named_resources():
                target = self.inv.get(pattern)
                self.graph.add_node(
                    Node(
                        pattern,
                        AWS_RESOURCE,
                        target.name if target else pattern.rsplit(":", 1)[-1],
                        AWS,
                        detail=target.kind if target else "named in a policy",
                    )
                )
                self.graph.add_edge(Edge(principal.uid, pattern, CAN, {"statement": statement}))
        return node

    def _identities(self) -> None:
        for kind in ("IAMRole", "IAMUser"):
            for principal in self.inv.of(PROVIDER, kind):
                if principal.attrs.get("service_linked"):
                    continue
                self.identity_node(principal)

    # -- endpoints ---------------------------------------------------------------------

    def _load_balancers(self) -> None:
        services_by_host: dict[str, list[str]] = defaultdict(list)
        for node in self.graph.of_kind(ENDPOINT):
            if node.plane != "kubernetes":
                continue
            service = self.inv.get(node.uid)
            for item in (service.attrs.get("load_balancer_ingress") or []) if service else []:
                if item.get("hostname"):
                    services_by_host[str(item["hostname"]).lower()].append(node.uid)
        for lb in self.inv.of(PROVIDER, "LoadBalancer"):
            internet = bool(lb.attrs.get("internet_facing"))
            dns = str(lb.attrs.get("dns_name") or "")
            self.graph.add_node(
                Node(
                    lb.uid,
                    ENDPOINT,
                    lb.name,
                    AWS,
                    detail=f"{lb.attrs.get('type') or 'load'} balancer",
                    internet=internet,
                    facts={"why": f"{lb.attrs.get('scheme') or 'unknown scheme'} {dns}"},
                )
            )
            for target in services_by_host.get(dns.lower(), []):
                self.graph.add_edge(
                    Edge(
                        lb.uid, target, EXPOSES, {"dns_name": dns, "via": "Service status hostname"}
                    )
                )

    def _api_gateways(self) -> None:
        for kind, key in (("ApiGatewayRestApi", "methods"), ("ApiGatewayHttpApi", "routes")):
            for api in self.inv.of(PROVIDER, kind):
                if "PRIVATE" in (api.attrs.get("endpoint_types") or []):
                    continue
                if api.attrs.get("disable_execute_api_endpoint"):
                    continue
                entries = api.attrs.get(key) or []
                open_routes = [
                    str(e.get("route_key") or f"{e.get('http_method')} {e.get('path')}")
                    for e in entries
                    if e.get("authorization_type") in _PUBLIC_AUTH
                ]
                self.graph.add_node(
                    Node(
                        api.uid,
                        ENDPOINT,
                        api.name,
                        AWS,
                        detail="API Gateway",
                        internet=bool(open_routes),
                        facts={
                            "why": "routes without authorization: " + ", ".join(open_routes[:5])
                            if open_routes
                            else "every route requires authorization",
                            # Integration targets are not collected: no edge further.
                            "backends": "not collected",
                        },
                    )
                )

    def _instances(self) -> None:
        groups = {
            (g.scope, g.attrs.get("group_id")): g for g in self.inv.of(PROVIDER, "SecurityGroup")
        }
        for instance in self.inv.of(PROVIDER, "EC2Instance"):
            if instance.attrs.get("state") not in (None, "running", "pending"):
                continue
            open_groups = [
                groups[(instance.scope, gid)]
                for gid in instance.attrs.get("security_groups") or []
                if (instance.scope, gid) in groups
                and any(
                    r.get("open_to_internet")
                    for r in groups[(instance.scope, gid)].attrs.get("ingress") or []
                )
            ]
            profile = instance.attrs.get("iam_instance_profile")
            role = self._profiles.get(str(profile)) if profile else None
            if not open_groups and role is None:
                continue
            self.graph.add_node(
                Node(
                    instance.uid,
                    WORKLOAD,
                    instance.attrs.get("name") or instance.name,
                    AWS,
                    detail="EC2 instance",
                    facts={"public_ip": instance.attrs.get("public_ip")},
                )
            )
            if instance.attrs.get("public_ip"):
                for group in open_groups:
                    rules = [
                        f"{r.get('protocol')} {r.get('from_port')}-{r.get('to_port')}"
                        for r in group.attrs.get("ingress") or []
                        if r.get("open_to_internet")
                    ]
                    self.graph.add_node(
                        Node(
                            group.uid,
                            ENDPOINT,
                            group.attrs.get("group_name") or group.name,
                            AWS,
                            detail="security group",
                            internet=True,
                            facts={"why": "open to 0.0.0.0/0 or ::/0: " + ", ".join(rules)},
                        )
                    )
                    self.graph.add_edge(
                        Edge(
                            group.uid,
                            instance.uid,
                            EXPOSES,
                            {"public_ip": instance.attrs.get("public_ip"), "rules": rules},
                        )
                    )
            if role is not None:
                self.identity_node(role)
                self.graph.add_edge(
                    Edge(instance.uid, role.uid, RUNS, {"instance_profile": profile})
                )

    # -- Kubernetes service accounts -> IAM roles --------------------------------------

    def _issuers(self) -> dict[str, set[str]]:
        """Kubernetes scope -> the OIDC issuer hosts of the EKS cluster it is, matched by
        name, ARN or API endpoint (a kube context is often named after the cluster)."""
        servers = {
            c.scope: str(c.attrs.get("server") or "").rstrip("/")
            for c in self.inv.of("kubernetes", "Cluster")
        }
        found: dict[str, set[str]] = {}
        for cluster in self.inv.of(PROVIDER, "EKSCluster"):
            host = trust.issuer_host(cluster.attrs.get("oidc_issuer"))
            if host is None:
                continue
            name = str(cluster.attrs.get("name") or cluster.name)
            endpoint = str(cluster.attrs.get("endpoint") or "").rstrip("/")
            for scope in self.inv.scopes("kubernetes"):
                if (
                    scope in (name, cluster.uid)
                    or scope.endswith(f"/{name}")
                    or (endpoint and servers.get(scope) == endpoint)
                ):
                    found.setdefault(scope, set()).add(host)
        return found

    def _service_accounts(self) -> None:
        issuers = self._issuers()
        associations: dict[tuple[str, str, str], list[Resource]] = defaultdict(list)
        for assoc in self.inv.of(PROVIDER, "EKSPodIdentityAssociation"):
            key = (
                str(assoc.attrs.get("cluster")),
                assoc.attrs.get("namespace"),
                assoc.attrs.get("service_account"),
            )
            associations[key].append(assoc)
        accounts = {n.uid: n for n in self.graph.of_kind(SERVICE_ACCOUNT)}
        for resource in self.inv.of("kubernetes", "ServiceAccount"):
            if resource.uid not in accounts and resource.attrs.get("irsa_role_arn"):
                accounts[resource.uid] = self.graph.add_node(
                    Node(
                        resource.uid,
                        SERVICE_ACCOUNT,
                        f"{resource.namespace}/{resource.name}",
                        "kubernetes",
                        detail="ServiceAccount",
                        facts={
                            "scope": resource.scope,
                            "namespace": resource.namespace,
                            "name": resource.name,
                        },
                    )
                )
        for uid, node in sorted(accounts.items()):
            scope, ns, name = node.facts["scope"], node.facts["namespace"], node.facts["name"]
            resource = self.inv.get(uid)
            arn = (resource.attrs.get("irsa_role_arn") if resource else None) or None
            if arn:
                self._irsa(node, str(arn), issuers.get(scope))
            for cluster_name in {scope, scope.rsplit("/", 1)[-1]}:
                for assoc in associations.get((cluster_name, ns, name), []):
                    self._pod_identity(node, assoc)

    def _irsa(self, node: Node, arn: str, issuers: set[str] | None) -> None:
        role = self.roles.get(arn)
        ns, name = node.facts["namespace"], node.facts["name"]
        if role is None:
            account = role_account(arn)
            gap = self.graph.gaps.get(f"aws://{account}") or self.graph.gaps.get("aws://*")
            if gap or account not in {s.split("/", 1)[0] for s in self.inv.scopes(PROVIDER)}:
                why = gap or f"account {account or '?'} was not collected"
                self.graph.gaps[node.uid] = f"IAM role {arn} could not be judged: {why}"
            else:
                self.graph.near_misses.append(
                    {"service_account": node.uid, "role": arn, "reason": "no such IAM role"}
                )
            return
        verdict = trust.irsa_verdict(role.attrs.get("trust_policy"), ns, name, issuers)
        if not verdict.allowed:
            self.graph.near_misses.append(
                {"service_account": node.uid, "role": arn, "reason": verdict.how}
            )
            return
        self.identity_node(role)
        self.graph.add_edge(
            Edge(
                node.uid,
                role.uid,
                ASSUMES,
                {
                    "via": "IRSA (eks.amazonaws.com/role-arn annotation)",
                    "confirmed": True,
                    "issuer_verified": issuers is not None,
                    "trust": verdict.how,
                    "wildcard": verdict.wildcard,
                },
            )
        )

    def _pod_identity(self, node: Node, assoc: Resource) -> None:
        arn = str(assoc.attrs.get("role_arn") or "")
        role = self.roles.get(arn)
        if role is None:
            return
        verdict = trust.pod_identity_verdict(role.attrs.get("trust_policy"))
        if not verdict.allowed:
            self.graph.near_misses.append(
                {"service_account": node.uid, "role": arn, "reason": verdict.how}
            )
            return
        self.identity_node(role)
        self.graph.add_edge(
            Edge(
                node.uid,
                role.uid,
                ASSUMES,
                {
                    "via": f"EKS Pod Identity association {assoc.attrs.get('association_id')}",
                    "confirmed": True,
                    "trust": verdict.how,
                },
            )
        )
