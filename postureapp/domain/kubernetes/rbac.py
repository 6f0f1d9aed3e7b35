"""RBAC evaluation: which subjects each binding grants which rules, and where.

The identity and governance checks share this model:

* a :class:`Grant` is one binding: its subjects, the effective rules of the role it
  references, and where they apply (a ClusterRoleBinding cluster-wide; a RoleBinding
  only in its own namespace, also when it references a ClusterRole);
* a ClusterRole with an ``aggregation_rule`` gets the rules of every ClusterRole whose
  labels its selectors match (transitively), as the aggregation controller would write
  them; a live read already carries them, an offline dump may not;
* a referenced ClusterRole that is absent from the inventory is assumed to be the
  built-in of that name when there is one (``cluster-admin``, ``admin``, ``edit``,
  ``view``), so dumps that skipped the defaults are still judged; any other missing role
  grants nothing, as in the API server; a ``cluster-admin`` redefined with other rules
  keeps the built-in's too, since the API server reconciles it at start (unless its
  ``autoupdate`` annotation is "false");
* rule matching follows the API server's authorizer: ``*`` matches any verb, API group
  or resource (subresources included), ``*/exec`` any resource's ``exec`` subresource;
  cluster-scoped resources (nodes, users, groups) are only granted cluster-wide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from postureapp.domain.kubernetes.objects import PROVIDER, labels_match, selector_matches
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import (
    BindingFacts,
    ClusterRoleFacts,
    LabelSelector,
    PolicyRule,
    RoleFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource

ALL = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    """One PolicyRule, remembering which role defined it (aggregation can mix them)."""

    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    source: str = ""

    @classmethod
    def from_attrs(cls, rule: PolicyRule, source: str) -> Rule:
        return cls(
            api_groups=tuple(rule.get("api_groups") or ()),
            resources=tuple(rule.get("resources") or ()),
            verbs=tuple(rule.get("verbs") or ()),
            resource_names=tuple(rule.get("resource_names") or ()),
            non_resource_urls=tuple(rule.get("non_resource_urls") or ()),
            source=source,
        )

    def describe(self) -> str:
        """``get,list on secrets`` / ``* on * (api groups *)`` — short and stable."""
        if not self.resources:
            return f"{','.join(self.verbs)} on {','.join(self.non_resource_urls)}"
        text = f"{','.join(self.verbs)} on {','.join(self.resources)}"
        groups = [group or "core" for group in self.api_groups]
        if groups != ["core"]:
            text += f" (api groups {','.join(groups)})"
        if self.resource_names:
            text += f" named {','.join(self.resource_names)}"
        return text

    def allows(self, verb: str, group: str, resource: str) -> bool:
        """Whether this rule authorises ``verb`` on ``resource`` (``pods/exec`` for a
        subresource) in API ``group``, ignoring resource names."""
        if not self.resources:
            return False
        if ALL not in self.verbs and verb not in self.verbs:
            return False
        if ALL not in self.api_groups and group not in self.api_groups:
            return False
        _, _, subresource = resource.partition("/")
        for allowed in self.resources:
            if allowed in (ALL, resource):
                return True
            if subresource and allowed == f"*/{subresource}":
                return True
        return False

    @property
    def wildcard(self) -> bool:
        """``*`` among the verbs or the resources of a resource rule."""
        return bool(self.resources) and (ALL in self.verbs or ALL in self.resources)

    @property
    def admin_equivalent(self) -> bool:
        """Every verb on every resource of every API group, not limited by name."""
        return (
            ALL in self.verbs
            and ALL in self.resources
            and ALL in self.api_groups
            and not self.resource_names
        )


_RuleSpec = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # groups, resources, verbs


def _rules(specs: Iterable[_RuleSpec], source: str) -> tuple[Rule, ...]:
    return tuple(
        Rule(groups, resources, verbs, source=source) for groups, resources, verbs in specs
    )


_READ = ("get", "list", "watch")
_WRITE = ("create", "delete", "deletecollection", "patch", "update")
_CORE_RW = (
    "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "configmaps",
    "events", "persistentvolumeclaims", "replicationcontrollers", "secrets",
    "serviceaccounts", "services", "services/proxy",
)  # fmt: skip
_APPS_RW = (
    "daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale",
    "statefulsets", "statefulsets/scale",
)  # fmt: skip
_VIEW = (
    (("",), ("configmaps", "endpoints", "persistentvolumeclaims", "pods", "pods/log",
             "pods/status", "replicationcontrollers", "services", "events", "limitranges",
             "resourcequotas", "serviceaccounts", "namespaces"), _READ),
    (("apps",), _APPS_RW, _READ),
    (("batch",), ("cronjobs", "jobs"), _READ),
    (("networking.k8s.io",), ("ingresses", "networkpolicies"), _READ),
    (("autoscaling",), ("horizontalpodautoscalers",), _READ),
    (("policy",), ("poddisruptionbudgets",), _READ),
)  # fmt: skip
_EDIT = (
    *_VIEW,
    (("",), _CORE_RW, _READ + _WRITE),
    (("",), ("serviceaccounts",), ("impersonate",)),
    (("",), ("serviceaccounts/token",), ("create",)),
    (("apps",), _APPS_RW, _WRITE),
    (("batch",), ("cronjobs", "jobs"), _WRITE),
    (("networking.k8s.io",), ("ingresses", "networkpolicies"), _WRITE),
    (("autoscaling",), ("horizontalpodautoscalers",), _WRITE),
    (("policy",), ("poddisruptionbudgets",), _WRITE),
)
_ADMIN = (
    *_EDIT,
    (("rbac.authorization.k8s.io",), ("roles", "rolebindings"), _READ + _WRITE),
    (("authorization.k8s.io",), ("localsubjectaccessreviews",), ("create",)),
)

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"

# The default ClusterRoles' substance, used when a binding references one that the
# inventory does not hold (an offline dump without the defaults, a hand-built test); and
# cluster-admin's, added to a redefined one the API server reconciles (RbacIndex._reconciled).
BUILTIN_CLUSTER_ROLES: dict[str, tuple[Rule, ...]] = {
    "cluster-admin": (
        Rule((ALL,), (ALL,), (ALL,), source="ClusterRole/cluster-admin"),
        Rule(verbs=(ALL,), non_resource_urls=(ALL,), source="ClusterRole/cluster-admin"),
    ),
    "admin": _rules(_ADMIN, "ClusterRole/admin"),
    "edit": _rules(_EDIT, "ClusterRole/edit"),
    "view": _rules(_VIEW, "ClusterRole/view"),
}

# Built-in roles the API server binds to every authenticated (and, for the first, every
# unauthenticated) caller: discovery, version and self-review. Nothing beyond these
# should be bound to anonymous or all-authenticated subjects.
DISCOVERY_ROLES = frozenset(
    {
        "system:public-info-viewer",
        "system:discovery",
        "system:basic-user",
        "system:service-account-issuer-discovery",
    }
)


# The API server binds system:public-info-viewer (version, health) to unauthenticated
# callers itself; anything else bound to anonymous callers is a choice someone made.
ANONYMOUS_ROLES = frozenset({"system:public-info-viewer"})
_ANONYMOUS = frozenset({("User", "system:anonymous"), ("Group", "system:unauthenticated")})


def allowed_public_roles(subject: Subject) -> frozenset[str]:
    """The built-in roles that may be bound to a public subject."""
    if (subject.kind, subject.name) in _ANONYMOUS:
        return ANONYMOUS_ROLES
    return DISCOVERY_ROLES


@dataclass(frozen=True, order=True, slots=True)
class Subject:
    kind: str  # ServiceAccount | User | Group
    name: str
    namespace: str = ""  # ServiceAccounts only

    @property
    def label(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"

    @property
    def public(self) -> bool:
        """Anyone (anonymous), anyone with credentials, or every workload's token."""
        return (self.kind, self.name) in PUBLIC_SUBJECTS

    @property
    def system(self) -> bool:
        """An identity of the control plane or the cloud provider's management plane:
        ``system:``/``eks:`` users and groups (except the public groups) and the
        ServiceAccounts of kube-system."""
        if self.kind == "ServiceAccount":
            return self.namespace == "kube-system"
        return self.name.startswith(("system:", "eks:")) and not self.public


PUBLIC_SUBJECTS = frozenset(
    {
        ("User", "system:anonymous"),
        ("Group", "system:unauthenticated"),
        ("Group", "system:authenticated"),
        ("Group", "system:serviceaccounts"),
    }
)


@dataclass(frozen=True, slots=True)
class Grant:
    """One binding, resolved."""

    binding: Resource
    role_kind: str
    role_name: str
    namespace: str | None  # where the rules apply; None: cluster-wide
    subjects: tuple[Subject, ...]
    rules: tuple[Rule, ...]
    role_found: bool
    assumed_builtin: bool = False  # the role was missing; the built-in's rules were used
    aggregated_from: tuple[str, ...] = field(default=())

    @property
    def binding_label(self) -> str:
        if self.binding.namespace:
            return f"{self.binding.kind} {self.binding.namespace}/{self.binding.name}"
        return f"{self.binding.kind} {self.binding.name}"

    @property
    def binding_ref(self) -> str:
        return f"{self.binding.kind}/{self.binding.name}"

    @property
    def role_label(self) -> str:
        if self.role_kind == "Role":
            return f"Role {self.binding.namespace}/{self.role_name}"
        return f"{self.role_kind} {self.role_name}"

    @property
    def role_ref(self) -> str:
        return f"{self.role_kind}/{self.role_name}"

    @property
    def cluster_wide(self) -> bool:
        return self.namespace is None

    @property
    def where(self) -> str:
        return "cluster-wide" if self.namespace is None else f"in namespace {self.namespace}"

    @property
    def subject_labels(self) -> list[str]:
        return [subject.label for subject in self.subjects]

    @property
    def control_plane(self) -> bool:
        """A binding the control plane (or the cloud provider) creates for itself.

        ``system:*`` (or ``eks:*``) bindings to ``system:*`` (``eks:*``) roles whose
        subjects are all control-plane identities, and the default ``cluster-admin``
        binding of the ``system:masters`` group. Flagging these would be noise: they
        exist in every cluster, are reconciled by the API server (or the provider) and
        cannot be removed. A binding to a public group never qualifies."""
        name, role = self.binding.name, self.role_name
        if self.binding.kind == "ClusterRoleBinding" and name == role == "cluster-admin":
            return [(s.kind, s.name) for s in self.subjects] == [("Group", "system:masters")]
        prefixes = ("system:", "eks:")
        return (
            name.startswith(prefixes)
            and role.startswith(prefixes)
            and bool(self.subjects)
            and all(subject.system for subject in self.subjects)
        )

    def describe(self) -> str:
        """``ClusterRoleBinding x grants ClusterRole y cluster-wide to ServiceAccount a/b``."""
        to = ", ".join(self.subject_labels) or "no subjects"
        text = f"{self.binding_label} grants {self.role_label} {self.where} to {to}"
        if self.assumed_builtin:
            text += " (the role is not in the inventory: the built-in definition is assumed)"
        return text

    def evidence(self, matched: Iterable[Rule] = ()) -> dict[str, Any]:
        data: dict[str, Any] = {
            "binding": self.binding_ref,
            "role": self.role_ref,
            "namespace": self.namespace,
            "subjects": self.subject_labels,
        }
        rules = sorted({rule.describe() for rule in matched})
        if rules:
            data["rules"] = rules
        via = sorted({r.source for r in matched if r.source and r.source != self.role_ref})
        if via:
            data["via"] = via
        return data


# -- capabilities ----------------------------------------------------------------------

# Resources that exist only at cluster scope: a RoleBinding cannot grant them.
CLUSTER_SCOPED = frozenset({"nodes", "nodes/proxy", "users", "groups", "uids", "userextras/*"})


@dataclass(frozen=True, slots=True)
class Capability:
    """Some verbs on some resources, e.g. reading secrets, or exec into pods."""

    name: str
    verbs: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]  # (api group, resource)
    count_named: bool = True  # False: rules limited to resourceNames do not count

    def matching(self, grant: Grant) -> list[Rule]:
        """The grant's rules that confer this capability where the grant applies."""
        found = []
        for rule in grant.rules:
            if rule.resource_names and not self.count_named:
                continue
            if any(
                rule.allows(verb, group, resource)
                for group, resource in self.targets
                if grant.cluster_wide or resource not in CLUSTER_SCOPED
                for verb in self.verbs
            ):
                found.append(rule)
        return found


WORKLOAD_RESOURCES = (
    ("", "pods"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
)

READ_SECRETS = Capability("read secrets", _READ, (("", "secrets"),), count_named=False)
POD_EXEC = Capability(
    "exec or attach into pods",
    # kubectl exec/attach POST (create); over WebSockets it is a GET on the subresource.
    ("create", "get"),
    (("", "pods/exec"), ("", "pods/attach")),
)
CREATE_WORKLOADS = Capability("create pods or workloads", ("create",), WORKLOAD_RESOURCES)
_ROLES = (("rbac.authorization.k8s.io", "clusterroles"), ("rbac.authorization.k8s.io", "roles"))
BIND = Capability("bind roles", ("bind",), _ROLES)
ESCALATE = Capability("escalate roles", ("escalate",), _ROLES)
IMPERSONATE = Capability(
    "impersonate",
    ("impersonate",),
    (
        ("", "users"),
        ("", "groups"),
        ("", "serviceaccounts"),
        ("authentication.k8s.io", "uids"),
        ("authentication.k8s.io", "userextras/*"),
    ),
)
NODES_PROXY = Capability(
    "proxy to kubelets (nodes/proxy)", ("get", "create"), (("", "nodes/proxy"),)
)


def wildcard_rules(grant: Grant) -> list[Rule]:
    return [rule for rule in grant.rules if rule.wildcard]


def admin_rules(grant: Grant) -> list[Rule]:
    """Rules that make the grant admin-equivalent where it applies."""
    return [rule for rule in grant.rules if rule.admin_equivalent]


# -- the index -------------------------------------------------------------------------


class RbacIndex:
    """Roles and bindings of an inventory, resolved into :class:`Grant` records."""

    def __init__(self, inv: Inventory) -> None:
        self._cluster_roles: dict[tuple[str, str], Resource] = {
            (r.scope, r.name): r for r in inv.of(PROVIDER, "ClusterRole")
        }
        self._roles: dict[tuple[str, str, str], Resource] = {
            (r.scope, r.namespace, r.name): r for r in inv.of(PROVIDER, "Role")
        }
        self._labels_by_scope: dict[str, list[Resource]] = {}
        for role in inv.of(PROVIDER, "ClusterRole"):
            self._labels_by_scope.setdefault(role.scope, []).append(role)
        self._bindings = sorted(
            [*inv.of(PROVIDER, "ClusterRoleBinding"), *inv.of(PROVIDER, "RoleBinding")],
            key=lambda r: r.uid,
        )
        self._aggregated: dict[tuple[str, str], tuple[tuple[Rule, ...], tuple[str, ...]]] = {}
        self._grants: list[Grant] | None = None
        self._by_account: dict[tuple[str, str, str], list[Grant]] | None = None

    def cluster_role_rules(self, scope: str, name: str) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
        """A ClusterRole's effective rules and the ClusterRoles aggregated into it."""
        key = (scope, name)
        if key not in self._aggregated:
            self._aggregated[key] = self._resolve(scope, name, frozenset())
        return self._aggregated[key]

    def _resolve(
        self, scope: str, name: str, seen: frozenset[str]
    ) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
        role = self._cluster_roles.get((scope, name))
        if role is None:
            return (), ()
        source = f"ClusterRole/{name}"
        facts = facts_of(role, ClusterRoleFacts)
        rules = [Rule.from_attrs(rule, source) for rule in facts.get("rules") or []]
        aggregation = facts.get("aggregation_rule")
        sources: list[str] = []
        if aggregation:
            selectors = aggregation.get("cluster_role_selectors") or []
            for other in sorted(self._labels_by_scope.get(scope, []), key=lambda r: r.name):
                if other.name == name or other.name in seen:
                    continue
                labels = facts_of(other, ClusterRoleFacts).get("labels") or {}
                if any(_aggregates(selector, labels) for selector in selectors):
                    more, _ = self._resolve(scope, other.name, seen | {name})
                    sources.append(other.name)
                    rules.extend(rule for rule in more if rule not in rules)
        return tuple(rules), tuple(sources)

    def grant(self, binding: Resource) -> Grant:
        ref = facts_of(binding, BindingFacts).get("role_ref") or {}
        role_kind = str(ref.get("kind") or "ClusterRole")
        role_name = str(ref.get("name") or "")
        namespace = (binding.namespace or None) if binding.kind == "RoleBinding" else None
        assumed = False
        aggregated: tuple[str, ...] = ()
        if role_kind == "Role":
            role = self._roles.get((binding.scope, binding.namespace, role_name))
            found = role is not None
            source = f"Role/{role_name}"
            role_rules = facts_of(role, RoleFacts).get("rules") if role else None
            rules = tuple(Rule.from_attrs(rule, source) for rule in role_rules or [])
        else:
            found = (binding.scope, role_name) in self._cluster_roles
            if found:
                rules, aggregated = self.cluster_role_rules(binding.scope, role_name)
                if role_name in BUILTIN_CLUSTER_ROLES and self._reconciled(
                    binding.scope, role_name
                ):
                    extra = BUILTIN_CLUSTER_ROLES[role_name]
                    rules = rules + tuple(rule for rule in extra if rule not in rules)
            else:
                rules = BUILTIN_CLUSTER_ROLES.get(role_name, ())
                assumed = found = bool(rules)
        return Grant(
            binding=binding,
            role_kind=role_kind,
            role_name=role_name,
            namespace=namespace,
            subjects=tuple(_subjects(binding)),
            rules=rules,
            role_found=found,
            assumed_builtin=assumed,
            aggregated_from=aggregated,
        )

    def _reconciled(self, scope: str, name: str) -> bool:
        """Whether the API server restores a default ClusterRole's rules at start: unless
        its ``rbac.authorization.kubernetes.io/autoupdate`` annotation is "false", a
        redefined ``cluster-admin`` is ``*`` on ``*`` again after the next restart."""
        role = self._cluster_roles[(scope, name)]
        annotations = facts_of(role, ClusterRoleFacts).get("annotations") or {}
        return annotations.get(AUTOUPDATE) != "false"

    def grants(self) -> list[Grant]:
        """Every binding resolved, ordered by uid (resolved once per index)."""
        if self._grants is None:
            self._grants = [self.grant(binding) for binding in self._bindings]
        return list(self._grants)

    def of_service_account(self, scope: str, namespace: str, name: str) -> list[Grant]:
        """Grants that give this ServiceAccount API permissions of its own: bindings that
        name it (as a ServiceAccount, or by its ``system:serviceaccount:`` user name) or
        every ServiceAccount of its namespace, to a role that exists and has rules. The
        groups of every caller (system:authenticated, system:serviceaccounts) are not
        its own: they would make every token "needed"."""
        if self._by_account is None:
            self._by_account = {}
            for grant in self.grants():
                if not grant.role_found or not grant.rules:
                    continue
                for key in _account_keys(grant):
                    self._by_account.setdefault(key, []).append(grant)
        scoped = self._by_account.get((scope, namespace, name), [])
        everyone = self._by_account.get((scope, namespace, "*"), [])
        return [*scoped, *everyone]


def _aggregates(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    # An empty aggregation selector matches nothing in the controller (it would pull in
    # every ClusterRole); a plain match_labels one is the common case.
    if not selector.get("match_labels") and not selector.get("match_expressions"):
        return False
    if not selector.get("match_expressions"):
        return labels_match(selector["match_labels"], labels)
    return selector_matches(selector, labels)


def _subjects(binding: Resource) -> list[Subject]:
    subjects = []
    for subject in facts_of(binding, BindingFacts).get("subjects") or []:
        kind = str(subject.get("kind") or "")
        name = str(subject.get("name") or "")
        if kind == "ServiceAccount":
            # A RoleBinding's ServiceAccount subject defaults to the binding's namespace.
            namespace = subject.get("namespace") or binding.namespace or ""
            subjects.append(Subject(kind, name, str(namespace)))
        elif kind in ("User", "Group"):
            subjects.append(Subject(kind, name))
    return subjects


_SA_USER = "system:serviceaccount:"
_SA_GROUP = "system:serviceaccounts:"


def _account_keys(grant: Grant) -> list[tuple[str, str, str]]:
    """(scope, namespace, name or "*") of the ServiceAccounts a grant names as its own."""
    scope = grant.binding.scope
    keys = []
    for subject in grant.subjects:
        if subject.kind == "ServiceAccount":
            keys.append((scope, subject.namespace, subject.name))
        elif subject.kind == "User" and subject.name.startswith(_SA_USER):
            namespace, _, name = subject.name[len(_SA_USER) :].partition(":")
            if namespace and name and ":" not in name:
                keys.append((scope, namespace, name))
        elif subject.kind == "Group" and subject.name.startswith(_SA_GROUP):
            keys.append((scope, subject.name[len(_SA_GROUP) :], "*"))
    return keys


RBAC_KINDS = ("ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding")


def index(inv: Inventory) -> RbacIndex:
    """The inventory's grants, resolved once for every check and the graph that reads
    them."""
    found: RbacIndex = inv.derived("rbac-index", RbacIndex)
    return found
