"""The AWS half of the graph: endpoints, instances, IAM identities, and the links from
Kubernetes service accounts to IAM roles (IRSA, EKS Pod Identity).

A link that could exist but was not seen (a role, instance profile or Pod Identity
association that was not read) is a gap on the service account or instance, never an
absent edge alone: the path checks turn gaps into *unknown*, absence into *pass*."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from postureapp.domain.aws.policy import Principals
from postureapp.domain.aws.scopes import account_of
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    ApiGatewayRestApiFacts,
    EC2InstanceFacts,
    EKSClusterFacts,
    EKSPodIdentityAssociationFacts,
    IAMGroupFacts,
    IAMRoleFacts,
    IAMUserFacts,
    LoadBalancerFacts,
    SecurityGroupFacts,
)
from postureapp.graph import trust
from postureapp.graph.chains import add_role_chains
from postureapp.graph.graph import Graph
from postureapp.graph.iam import IamIndex
from postureapp.graph.model import (
    ASSUMES,
    AWS,
    AWS_RESOURCE,
    CAN,
    ENDPOINT,
    EXPOSES,
    IAM_GROUP,
    IAM_ROLE,
    IAM_USER,
    MEMBER_OF,
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
            for profile in facts_of(role, IAMRoleFacts).get("instance_profiles") or []:
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
        add_role_chains(self.inv, self.graph, self.iam.principals)
        self._load_balancers()
        self._api_gateways()
        self._instances()
        self._service_accounts()

    # -- identities --------------------------------------------------------------------

    def identity_node(self, principal: Resource) -> Node:
        kind = {"IAMUser": IAM_USER, "IAMGroup": IAM_GROUP}.get(principal.kind, IAM_ROLE)
        node = self.graph.add_node(
            Node(principal.uid, kind, principal.name, AWS, detail=principal.kind)
        )
        if principal.uid not in self.graph.permissions:
            perms, missing = self.iam.permissions(principal)
            self.graph.permissions[principal.uid] = perms
            if missing:
                self.graph.gaps[principal.uid] = "policies not collected: " + "; ".join(missing)
                self.graph.add_unknown(
                    principal.uid,
                    "what its missing policies allow",
                    "not collected: " + "; ".join(missing),
                    gap=False,
                )
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
        for kind in ("IAMRole", "IAMUser", "IAMGroup"):
            for principal in self.inv.of(PROVIDER, kind):
                if principal.kind == "IAMRole" and facts_of(principal, IAMRoleFacts).get(
                    "service_linked"
                ):
                    continue
                self.identity_node(principal)
        # A user holds its groups' policies (already in its permissions); the edge lets
        # a reader see which group gives what.
        groups = {
            (account_of(g), facts_of(g, IAMGroupFacts).get("group_name") or g.name): g.uid
            for g in self.inv.of(PROVIDER, "IAMGroup")
        }
        for user in self.inv.of(PROVIDER, "IAMUser"):
            for name in facts_of(user, IAMUserFacts).get("groups") or []:
                group = groups.get((account_of(user), str(name)))
                if group is not None:
                    self.graph.add_edge(Edge(user.uid, group, MEMBER_OF, {"group": str(name)}))

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
            balancer = facts_of(lb, LoadBalancerFacts)
            internet = bool(balancer.get("internet_facing"))
            dns = str(balancer.get("dns_name") or "")
            self.graph.add_node(
                Node(
                    lb.uid,
                    ENDPOINT,
                    lb.name,
                    AWS,
                    detail=f"{balancer.get('type') or 'load'} balancer",
                    internet=internet,
                    facts={"why": f"{balancer.get('scheme') or 'unknown scheme'} {dns}"},
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
                rest = facts_of(api, ApiGatewayRestApiFacts)
                if kind == "ApiGatewayRestApi" and "PRIVATE" in (rest.get("endpoint_types") or []):
                    continue
                if rest.get("disable_execute_api_endpoint"):  # both kinds have it
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
            (g.scope, facts_of(g, SecurityGroupFacts).get("group_id")): g
            for g in self.inv.of(PROVIDER, "SecurityGroup")
        }
        for instance in self.inv.of(PROVIDER, "EC2Instance"):
            if facts_of(instance, EC2InstanceFacts).get("state") not in (
                None,
                "running",
                "pending",
            ):
                continue
            open_groups = [
                groups[(instance.scope, gid)]
                for gid in facts_of(instance, EC2InstanceFacts).get("security_groups") or []
                if (instance.scope, gid) in groups
                and any(
                    r.get("open_to_internet")
                    for r in facts_of(groups[(instance.scope, gid)], SecurityGroupFacts)["ingress"]
                )
            ]
            profile = facts_of(instance, EC2InstanceFacts).get("iam_instance_profile")
            role = self._profiles.get(str(profile)) if profile else None
            # A profile whose role was not read may hold anything: the instance stays in
            # the graph with a gap, or an exposed instance would pass on missing data.
            unread = self._unread_role(str(profile)) if profile and role is None else None
            if not open_groups and role is None and unread is None:
                continue
            self.graph.add_node(
                Node(
                    instance.uid,
                    WORKLOAD,
                    facts_of(instance, EC2InstanceFacts).get("name") or instance.name,
                    AWS,
                    detail="EC2 instance",
                    facts={"public_ip": facts_of(instance, EC2InstanceFacts).get("public_ip")},
                )
            )
            if unread is not None:
                self.graph.add_unknown(
                    instance.uid, f"the role of instance profile {profile}", unread
                )
            if facts_of(instance, EC2InstanceFacts).get("public_ip"):
                for group in open_groups:
                    rules = [
                        f"{r.get('protocol')} {r.get('from_port')}-{r.get('to_port')}"
                        for r in (facts_of(group, SecurityGroupFacts).get("ingress") or [])
                        if r.get("open_to_internet")
                    ]
                    self.graph.add_node(
                        Node(
                            group.uid,
                            ENDPOINT,
                            (facts_of(group, SecurityGroupFacts).get("group_name") or group.name),
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
                            {
                                "public_ip": facts_of(instance, EC2InstanceFacts).get("public_ip"),
                                "rules": rules,
                            },
                        )
                    )
            if role is not None:
                self.identity_node(role)
                self.graph.add_edge(
                    Edge(instance.uid, role.uid, RUNS, {"instance_profile": profile})
                )

    # -- Kubernetes service accounts -> IAM roles --------------------------------------

    def _unread_role(self, arn: str) -> str | None:
        """Why a role (or instance profile) ARN that is not in the inventory could not be
        judged, or None when its account's IAM was read in full (it does not exist)."""
        account = role_account(arn)
        gap = self.graph.gaps.get(f"aws://{account}") or self.graph.gaps.get("aws://*")
        if gap:
            return gap
        if account not in {s.split("/", 1)[0] for s in self.inv.scopes(PROVIDER)}:
            return f"account {account or '?'} was not collected"
        return None

    def _eks_clusters(self) -> dict[str, list[Resource]]:
        """Kubernetes scope -> the EKS cluster(s) it is, matched by name, ARN or API
        endpoint: a kube context is often, but not always, named after the cluster (eksctl
        and ``aws eks update-kubeconfig`` name it differently), and IRSA and Pod Identity
        must agree on which cluster a service account lives in."""
        servers = {
            c.scope: str(c.attrs.get("server") or "").rstrip("/")
            for c in self.inv.of("kubernetes", "Cluster")
        }
        found: dict[str, list[Resource]] = {}
        for cluster in self.inv.of(PROVIDER, "EKSCluster"):
            name = str(facts_of(cluster, EKSClusterFacts).get("name") or cluster.name)
            endpoint = str(facts_of(cluster, EKSClusterFacts).get("endpoint") or "").rstrip("/")
            for scope in sorted(self.inv.scopes("kubernetes")):
                if (
                    scope in (name, cluster.uid)
                    or scope.endswith(f"/{name}")
                    or (endpoint and servers.get(scope) == endpoint)
                ):
                    found.setdefault(scope, []).append(cluster)
        return found

    @staticmethod
    def _issuers(clusters: list[Resource]) -> set[str] | None:
        """The OIDC issuer hosts of a scope's EKS clusters; None when none is known."""
        hosts = {
            host
            for cluster in clusters
            if (host := trust.issuer_host(facts_of(cluster, EKSClusterFacts).get("oidc_issuer")))
            is not None
        }
        return hosts or None

    def _pod_identity_gap(self, clusters: list[Resource], mapped: set[str]) -> str | None:
        """Why the Pod Identity associations of a Kubernetes scope whose EKS clusters are
        ``clusters`` (possibly none) could not all be read, or None."""
        blind = self.inv.blind_providers().get(PROVIDER)
        if blind:
            return blind
        reasons = []
        for cluster in clusters:
            why = self.inv.why_unknown(PROVIDER, cluster.scope, ("EKSPodIdentityAssociation",))
            if why is None and (
                "pod_identity_associations" in cluster.attrs
                and cluster.attrs["pod_identity_associations"] is None
            ):
                why = "not read for this cluster"
            if why:
                reasons.append(f"EKS cluster {cluster.name}: {why}")
        if clusters:
            return "; ".join(reasons) or None
        # Not matched to any EKS cluster: it may still be one whose description, or whose
        # associations, could not be read.
        for scope in sorted(self.inv.scopes(PROVIDER)):
            why = self.inv.why_unknown(PROVIDER, scope, ("EKSCluster",))
            if why:
                reasons.append(f"EKS clusters of {scope} not read ({why})")
        for cluster in self.inv.of(PROVIDER, "EKSCluster"):
            if cluster.uid in mapped:
                continue
            why = self._pod_identity_gap([cluster], mapped)
            if why:
                reasons.append(f"not matched to an EKS cluster, and {why}")
        return "; ".join(reasons) or None

    def _service_accounts(self) -> None:
        eks = self._eks_clusters()
        mapped = {cluster.uid for clusters in eks.values() for cluster in clusters}
        associations: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for assoc in self.inv.of(PROVIDER, "EKSPodIdentityAssociation"):
            key = (
                str(facts_of(assoc, EKSPodIdentityAssociationFacts).get("namespace")),
                str(facts_of(assoc, EKSPodIdentityAssociationFacts).get("service_account")),
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
        # Only when AWS was collected: a cluster-only poll has no cloud half to miss.
        aws_seen = bool(self.inv.scopes(PROVIDER) or self.inv.blind_providers().get(PROVIDER))
        pod_gaps: dict[str, str | None] = {}
        for uid, node in sorted(accounts.items()):
            scope, ns, name = node.facts["scope"], node.facts["namespace"], node.facts["name"]
            clusters = eks.get(scope, [])
            account = self.inv.get(uid)
            arn = (account.attrs.get("irsa_role_arn") if account else None) or None
            if arn:
                self._irsa(node, str(arn), self._issuers(clusters))
            if aws_seen:
                if scope not in pod_gaps:
                    pod_gaps[scope] = self._pod_identity_gap(clusters, mapped)
                if pod_gaps[scope]:
                    self.graph.add_unknown(
                        uid,
                        "an IAM role through EKS Pod Identity",
                        f"EKS Pod Identity associations could not be read ({pod_gaps[scope]})",
                        gap_text="EKS Pod Identity associations could not be read "
                        f"({pod_gaps[scope]}): a role granted that way cannot be ruled out",
                    )
            # An association names the cluster by name, in the cluster's account/region.
            names = (
                {
                    (c.scope, str(facts_of(c, EKSClusterFacts).get("name") or c.name))
                    for c in clusters
                }
                if clusters
                else None
            )
            # Without a matching EKS cluster, the context name is the best guess.
            fallback = {scope, scope.rsplit("/", 1)[-1]}
            for assoc in associations.get((str(ns), str(name)), []):
                cluster_name = str(facts_of(assoc, EKSPodIdentityAssociationFacts).get("cluster"))
                if (names is not None and (assoc.scope, cluster_name) in names) or (
                    names is None and cluster_name in fallback
                ):
                    self._pod_identity(node, assoc)

    def _irsa(self, node: Node, arn: str, issuers: set[str] | None) -> None:
        role = self._role_or_gap(node, arn, f"IAM role {arn}")
        if role is None:
            return
        ns, name = node.facts["namespace"], node.facts["name"]
        verdict = trust.irsa_verdict(
            facts_of(role, IAMRoleFacts).get("trust_policy"), ns, name, issuers
        )
        self._assume(
            node,
            role,
            verdict,
            via="IRSA (eks.amazonaws.com/role-arn annotation)",
            issuer_verified=issuers is not None,
            wildcard=verdict.wildcard,
        )

    def _pod_identity(self, node: Node, assoc: Resource) -> None:
        association = facts_of(assoc, EKSPodIdentityAssociationFacts)
        via = f"EKS Pod Identity association {association.get('association_id')}"
        arn = association.get("role_arn") or ""
        if not arn:
            # The list call names the service account; only the describe call names the
            # role, and it failed for this association.
            self.graph.add_unknown(
                node.uid,
                f"the IAM role of {via}",
                "its IAM role was not read",
                gap_text=f"{via}: its IAM role was not read",
            )
            return
        role = self._role_or_gap(node, arn, f"IAM role {arn} ({via})")
        if role is None:
            return
        verdict = trust.pod_identity_verdict(facts_of(role, IAMRoleFacts).get("trust_policy"))
        self._assume(node, role, verdict, via=via)

    def _role_or_gap(self, node: Node, arn: str, label: str) -> Resource | None:
        """The role a service account claims; when it is missing, a gap if its account's
        IAM was not fully read (judging would be a guess), else a near-miss."""
        role = self.roles.get(arn)
        if role is None:
            why = self._unread_role(arn)
            if why:
                self.graph.add_unknown(node.uid, label, why)
            else:
                self.graph.near_misses.append(
                    {"service_account": node.uid, "role": arn, "reason": "no such IAM role"}
                )
        return role

    def _assume(
        self, node: Node, role: Resource, verdict: trust.TrustVerdict, via: str, **evidence: Any
    ) -> None:
        """An assumes edge when the role's trust policy honours the link; otherwise a
        near-miss, recorded with the reason, and no edge."""
        if not verdict.allowed:
            self.graph.near_misses.append(
                {"service_account": node.uid, "role": role.uid, "reason": verdict.how}
            )
            return
        self.identity_node(role)
        self.graph.add_edge(
            Edge(
                node.uid,
                role.uid,
                ASSUMES,
                {"via": via, "confirmed": True, "trust": verdict.how, **evidence},
            )
        )
