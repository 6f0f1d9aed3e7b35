"""Identity checks: who can do what in the cluster (the workloads' identities are judged
in :mod:`postureapp.checks.kubernetes.workloads`).

The RBAC checks judge every binding (one finding per RoleBinding/ClusterRoleBinding,
PASS when it does not grant the capability) through :mod:`postureapp.domain.kubernetes.rbac`.
Control-plane bindings are not judged: ``system:*``/``eks:*`` bindings to
``system:*``/``eks:*`` roles whose subjects are all control-plane identities, and the
default ``cluster-admin`` binding of ``system:masters``. They exist in every cluster,
the API server (or the provider) reconciles them, and a finding could only be waived.
Bindings of public groups are always judged.

Each RBAC check stands on its own: a cluster-admin binding also fails the wildcard,
secrets, exec... checks, so that waiving one risk never hides another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes import rbac
from postureapp.domain.kubernetes.objects import PROVIDER
from postureapp.domain.kubernetes.rbac import RBAC_KINDS
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View

_RBAC_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
_RBAC_GOOD = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"


def _rules_text(grant: rbac.Grant, rules: list[rbac.Rule]) -> str:
    parts = []
    for rule in rules:
        text = rule.describe()
        if rule.source and rule.source != grant.role_ref:
            text += f" [aggregated from {rule.source}]"
        parts.append(text)
    return "; ".join(sorted(set(parts)))


def _judge_bindings(
    inv: Inventory,
    matching: Callable[[rbac.Grant], list[rbac.Rule]],
    what: str,
    clean: str,
    severity: Callable[[rbac.Grant], Severity | None] = lambda grant: None,
) -> Iterator[Result]:
    """One result per binding: FAIL when its rules (where it applies) match.

    ``what`` completes "which can ..." in a failing detail, ``clean`` "; ..." in a
    passing one."""
    for grant in rbac.index(inv).grants():
        if grant.control_plane:
            continue
        if not grant.subjects:
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.binding_label} has no subjects: it grants nothing",
                evidence=grant.evidence(),
            )
            continue
        if not grant.role_found:
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.binding_label} references {grant.role_label}, which does not "
                "exist: it grants nothing until a role of that name is created",
                evidence=grant.evidence(),
            )
            continue
        matched = matching(grant)
        if matched:
            yield Result(
                grant.binding,
                Status.FAIL,
                detail=f"{grant.describe()}, which can {what}: {_rules_text(grant, matched)}",
                evidence=grant.evidence(matched),
                severity=severity(grant),
            )
        else:
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.describe()}; {clean}",
                evidence=grant.evidence(),
            )


# -- RBAC ------------------------------------------------------------------------------


@check(
    id="k8s-rbac-cluster-admin",
    title="Subject bound to cluster-admin or an admin-equivalent role",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Find the holders: `kubectl get clusterrolebindings,rolebindings -A -o wide | grep -E
'cluster-admin|<role>'`. Give each subject a Role with only the verbs and resources it
uses, e.g. `kubectl create role deployer -n shop --verb=get,list,patch
--resource=deployments` and `kubectl create rolebinding deployer -n shop --role=deployer
--serviceaccount=shop:ci-deployer`, then `kubectl delete clusterrolebinding <name>` (or
the rolebinding). Remove `*` on `*` from custom roles. Keep human break-glass access
behind impersonation or short-lived group membership, not a standing binding.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.18"],
        "CIS Kubernetes": ["5.1.1"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(f"{_RBAC_DOCS}#user-facing-roles", _RBAC_GOOD),
    controls=("least-privilege", "k8s-least-privilege"),
)
def cluster_admin(inv: Inventory) -> Iterator[Result]:
    """A binding to cluster-admin, or to any role with every verb on every resource of
    every API group (``*`` on ``*``), cluster-wide or in a namespace: whoever holds it
    (or steals its token) controls the cluster, or the whole namespace and every
    secret in it. Critical either way."""
    yield from _judge_bindings(
        inv,
        rbac.admin_rules,
        "do anything (* on * in every API group)",
        "no rule is admin-equivalent",
    )


@check(
    id="k8s-rbac-wildcard",
    title="Role with wildcard verbs or resources bound to a subject",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Replace `*` in the role's `verbs` and `resources` with the explicit lists the subject
uses (`kubectl get role <name> -n <ns> -o yaml`, then edit `rules`). A wildcard also
grants every resource and verb added later, including CRDs installed after the review.
`kubectl auth can-i --list --as=system:serviceaccount:<ns>:<sa>` shows what is used.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15"],
        "CIS Kubernetes": ["5.1.3"],
        "SOC 2": ["CC6.3"],
    },
    references=(f"{_RBAC_GOOD}#least-privilege", _RBAC_DOCS),
    controls=("least-privilege", "k8s-least-privilege"),
)
def wildcard(inv: Inventory) -> Iterator[Result]:
    """A binding whose role has ``*`` among the verbs or the resources of a rule."""
    yield from _judge_bindings(
        inv, rbac.wildcard_rules, "act through wildcards", "no wildcard verb or resource"
    )


@check(
    id="k8s-rbac-secrets-read",
    title="Subject can read secrets",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Remove get/list/watch on `secrets` from the role, or limit `get` to the secrets the
workload needs with `resourceNames: [<secret>]` in a namespaced Role. Better: mount the
secret into the pod (or use an external secret store) so the identity needs no RBAC on
secrets at all. `list` and `watch` return every secret's value, not just names.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.8.3"],
        "CIS Kubernetes": ["5.1.2"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        f"{_RBAC_GOOD}#listing-secrets",
        "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
    ),
    controls=("least-privilege", "k8s-least-privilege"),
)
def secrets_read(inv: Inventory) -> Iterator[Result]:
    """get, list or watch on secrets, not limited by ``resourceNames``. High when
    granted cluster-wide (every namespace's secrets), medium within one namespace.
    A rule limited to named secrets is the least-privilege pattern and passes."""
    yield from _judge_bindings(
        inv,
        rbac.READ_SECRETS.matching,
        "read secrets",
        "it cannot read secrets",
        lambda grant: None if grant.cluster_wide else Severity.MEDIUM,
    )


@check(
    id="k8s-rbac-pod-exec",
    title="Subject can exec or attach into pods",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Remove `pods/exec` and `pods/attach` from the role (`kubectl edit role <name> -n <ns>`).
A shell in a pod is that pod's service-account token, mounted secrets and network
position. Grant it to people just in time (a separate debug role bound for the
incident) rather than standing, and never to workload service accounts.""",
    frameworks={"ISO 27001:2022": ["A.8.2", "A.5.15", "A.8.18"], "SOC 2": ["CC6.1", "CC6.3"]},
    references=(f"{_RBAC_GOOD}#privilege-escalation-risks", _RBAC_DOCS),
    controls=("k8s-least-privilege",),
    no_benchmark="no CIS recommendation on pods/exec or pods/attach rights",
)
def pod_exec(inv: Inventory) -> Iterator[Result]:
    """create or get on ``pods/exec`` or ``pods/attach`` (get: the WebSocket path)."""
    yield from _judge_bindings(
        inv, rbac.POD_EXEC.matching, "exec or attach into pods", "no exec or attach"
    )


@check(
    id="k8s-rbac-create-workloads",
    title="Subject can create pods or workloads",
    view=View.IDENTITIES,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Keep `create` on pods, deployments, daemonsets, statefulsets, replicasets, jobs and
cronjobs for the deployment pipeline's identity only, namespaced (a RoleBinding), and
enforce Pod Security `restricted` (`kubectl label ns <ns>
pod-security.kubernetes.io/enforce=restricted`) so created pods cannot be privileged.
Whoever creates a pod can run it as any service account of the namespace and mount
any of its secrets.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15"],
        "CIS Kubernetes": ["5.1.4"],
        "SOC 2": ["CC6.1", "CC8.1"],
    },
    references=(f"{_RBAC_GOOD}#workload-creation", _RBAC_DOCS),
    controls=("k8s-least-privilege",),
)
def create_workloads(inv: Inventory) -> Iterator[Result]:
    """create on pods or on a workload controller (deployments, daemonsets,
    statefulsets, replicasets, jobs, cronjobs). Medium in a namespace, high
    cluster-wide. update/patch of a workload can change its pod template too; they are
    left to the wildcard and admin checks, to keep this finding about creation."""
    yield from _judge_bindings(
        inv,
        rbac.CREATE_WORKLOADS.matching,
        "create pods or workloads",
        "it cannot create pods or workloads",
        lambda grant: Severity.HIGH if grant.cluster_wide else None,
    )


def _escalation_rules(grant: rbac.Grant) -> list[rbac.Rule]:
    found: list[rbac.Rule] = []
    for capability in (rbac.BIND, rbac.ESCALATE, rbac.IMPERSONATE):
        found.extend(rule for rule in capability.matching(grant) if rule not in found)
    return found


@check(
    id="k8s-rbac-escalation-verbs",
    title="Subject can bind, escalate or impersonate",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Remove the `bind`, `escalate` and `impersonate` verbs from the role. Each lets the
subject give itself more than it was granted: `bind`/`escalate` create bindings or roles
beyond its own rights, `impersonate` acts as another user, group or service account
(`system:masters` included). Where delegation is needed, limit `bind` with
`resourceNames` to the roles that may be handed out.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.18"],
        "CIS Kubernetes": ["5.1.8"],
        "SOC 2": ["CC6.3"],
    },
    references=(f"{_RBAC_DOCS}#privilege-escalation-prevention-and-bootstrapping", _RBAC_GOOD),
    controls=("least-privilege", "k8s-least-privilege"),
)
def escalation_verbs(inv: Inventory) -> Iterator[Result]:
    """bind or escalate on roles/clusterroles, or impersonate on users, groups,
    serviceaccounts or uids (users and groups only count cluster-wide, where they are
    grantable)."""
    yield from _judge_bindings(
        inv, _escalation_rules, "bind, escalate or impersonate", "no bind, escalate or impersonate"
    )


@check(
    id="k8s-rbac-nodes-proxy",
    title="Subject can proxy to kubelets (nodes/proxy)",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Remove `nodes/proxy` from the ClusterRole. It reaches the kubelet API of every node,
which runs commands in any container there without the API server's audit of pod exec.
Monitoring needs `nodes/metrics` and `nodes/stats` (get), not `nodes/proxy`.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15"],
        "CIS Kubernetes": ["5.1.10"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/",
        _RBAC_GOOD,
    ),
    controls=("k8s-least-privilege",),
)
def nodes_proxy(inv: Inventory) -> Iterator[Result]:
    """get or create on ``nodes/proxy``; nodes are cluster-scoped, so only
    ClusterRoleBindings can grant it."""
    yield from _judge_bindings(
        inv, rbac.NODES_PROXY.matching, "proxy to the kubelet API", "no nodes/proxy"
    )


@check(
    id="k8s-rbac-anonymous",
    title="Role bound to anonymous or all-authenticated subjects",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=RBAC_KINDS,
    remediation="""
Remove `system:anonymous`, `system:unauthenticated`, `system:authenticated` and
`system:serviceaccounts` from the binding's subjects (`kubectl edit clusterrolebinding
<name>`), and bind the role to the specific users, groups or service accounts that need
it. On a managed cluster every identity of the cloud account that can get a token is
"authenticated".""",
    frameworks={"ISO 27001:2022": ["A.8.2", "A.5.15", "A.8.5"], "SOC 2": ["CC6.1", "CC6.6"]},
    references=(
        f"{_RBAC_DOCS}#discovery-roles",
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
    ),
    controls=("least-privilege", "k8s-least-privilege"),
    no_benchmark="no CIS recommendation on bindings to anonymous users (1.2.1 is a flag)",
)
def anonymous(inv: Inventory) -> Iterator[Result]:
    """A binding whose subjects include ``system:anonymous``, ``system:unauthenticated``,
    ``system:authenticated`` or ``system:serviceaccounts`` (every pod's token), to
    anything beyond the built-in discovery roles (system:discovery, system:basic-user,
    system:public-info-viewer, system:service-account-issuer-discovery; for anonymous
    and unauthenticated subjects only system:public-info-viewer, which the API server
    binds them itself). A role that does not exist fails too: whoever creates a role of
    that name grants it to everyone."""
    for grant in rbac.index(inv).grants():
        public = [subject for subject in grant.subjects if subject.public]
        labels = [subject.label for subject in public]
        if not public:
            if grant.control_plane:
                continue
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.binding_label} binds no anonymous or all-authenticated subject",
                evidence=grant.evidence(),
            )
        elif grant.role_kind == "ClusterRole" and all(
            grant.role_name in rbac.allowed_public_roles(subject) for subject in public
        ):
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.describe()}: a built-in discovery role",
                evidence=grant.evidence(),
            )
        elif not grant.role_found:
            yield Result(
                grant.binding,
                Status.FAIL,
                detail=f"{grant.binding_label} binds {', '.join(labels)} to "
                f"{grant.role_label}, which does not exist: it grants nothing yet, but "
                "whoever creates a role of that name grants it to everyone",
                evidence=grant.evidence(),
                severity=Severity.HIGH,
            )
        else:
            rules = _rules_text(grant, list(grant.rules)) or "no rules"
            yield Result(
                grant.binding,
                Status.FAIL,
                detail=f"{grant.describe()}: {', '.join(labels)} covers anyone (or any "
                f"workload) that can reach the API server, and gets: {rules}",
                evidence=grant.evidence(grant.rules),
            )
