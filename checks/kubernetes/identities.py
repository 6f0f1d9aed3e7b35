"""Identity checks: who can do what in the cluster, and which identity each workload runs as.

The RBAC checks judge every binding (one finding per RoleBinding/ClusterRoleBinding,
PASS when it does not grant the capability) through :mod:`postureapp.checks.kubernetes.rbac`.
Control-plane bindings are not judged: ``system:*``/``eks:*`` bindings to
``system:*``/``eks:*`` roles whose subjects are all control-plane identities, and the
default ``cluster-admin`` binding of ``system:masters``. They exist in every cluster,
the API server (or the provider) reconciles them, and a finding could only be waived.
Bindings of public groups are always judged.

Each RBAC check stands on its own: a cluster-admin binding also fails the wildcard,
secrets, exec... checks, so that waiving one risk never hides another.

The workload checks group pods by workload (``attrs.workload``; a CronJob's Jobs fold
into the CronJob) and hang their findings on the workload's uid, which survives
rollouts. Mirror pods of static pods (owned by a Node) are left out: the kubelet runs
them from files on the node, they cannot use service accounts, and no API change can
fix them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from postureapp.checks.kubernetes._common import frameworks
from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes import rbac
from postureapp.domain.kubernetes.objects import PROVIDER, workloads
from postureapp.domain.kubernetes.rbac import RBAC_KINDS
from postureapp.domain.text import names_list
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View, k8s_uid

_RBAC_DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
_RBAC_GOOD = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
_SA_DOCS = "https://kubernetes.io/docs/concepts/security/service-accounts/"
_SA_TASK = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"
_PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
_PSA = "https://kubernetes.io/docs/concepts/security/pod-security-admission/"


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
    frameworks=frameworks(
        cis=["5.1.1"], iso=["A.8.2", "A.5.15", "A.5.18"], soc2=["CC6.1", "CC6.3"]
    ),
    references=(f"{_RBAC_DOCS}#user-facing-roles", _RBAC_GOOD),
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
    frameworks=frameworks(cis=["5.1.3"], iso=["A.8.2", "A.5.15"], soc2=["CC6.3"]),
    references=(f"{_RBAC_GOOD}#least-privilege", _RBAC_DOCS),
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
    frameworks=frameworks(cis=["5.1.2"], iso=["A.8.2", "A.5.15", "A.8.3"], soc2=["CC6.1"]),
    references=(
        f"{_RBAC_GOOD}#listing-secrets",
        "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
    ),
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
    frameworks=frameworks(iso=["A.8.2", "A.5.15", "A.8.18"], soc2=["CC6.1", "CC6.3"]),
    references=(f"{_RBAC_GOOD}#privilege-escalation-risks", _RBAC_DOCS),
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
    frameworks=frameworks(cis=["5.1.4"], iso=["A.8.2", "A.5.15"], soc2=["CC6.1", "CC8.1"]),
    references=(f"{_RBAC_GOOD}#workload-creation", _RBAC_DOCS),
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
    found = []
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
    frameworks=frameworks(cis=["5.1.8"], iso=["A.8.2", "A.5.15", "A.5.18"], soc2=["CC6.3"]),
    references=(f"{_RBAC_DOCS}#privilege-escalation-prevention-and-bootstrapping", _RBAC_GOOD),
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
    frameworks=frameworks(cis=["5.1.10"], iso=["A.8.2", "A.5.15"], soc2=["CC6.1"]),
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/",
        _RBAC_GOOD,
    ),
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
    frameworks=frameworks(iso=["A.8.2", "A.5.15", "A.8.5"], soc2=["CC6.1", "CC6.6"]),
    references=(
        f"{_RBAC_DOCS}#discovery-roles",
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
    ),
)
def anonymous(inv: Inventory) -> Iterator[Result]:
    """A binding whose subjects include ``system:anonymous``, ``system:unauthenticated``,
    ``system:authenticated`` or ``system:serviceaccounts`` (every pod's token), to
    anything beyond the built-in discovery roles (system:discovery, system:basic-user,
    system:public-info-viewer, system:service-account-issuer-discovery)."""
    for grant in rbac.index(inv).grants():
        public = [subject.label for subject in grant.subjects if subject.public]
        if not public:
            if grant.control_plane:
                continue
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.binding_label} binds no anonymous or all-authenticated subject",
                evidence=grant.evidence(),
            )
        elif grant.role_kind == "ClusterRole" and grant.role_name in rbac.DISCOVERY_ROLES:
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.describe()}: a built-in discovery role",
                evidence=grant.evidence(),
            )
        elif not grant.role_found:
            yield Result(
                grant.binding,
                Status.PASS,
                detail=f"{grant.binding_label} binds {', '.join(public)} to "
                f"{grant.role_label}, which does not exist: it grants nothing until a role "
                "of that name is created",
                evidence=grant.evidence(),
            )
        else:
            rules = _rules_text(grant, list(grant.rules)) or "no rules"
            yield Result(
                grant.binding,
                Status.FAIL,
                detail=f"{grant.describe()}: {', '.join(public)} covers anyone (or any "
                f"workload) that can reach the API server, and gets: {rules}",
                evidence=grant.evidence(grant.rules),
            )


# -- service accounts and pods ---------------------------------------------------------


@check(
    id="k8s-sa-default-used",
    title="Workload runs as the default ServiceAccount",
    view=View.IDENTITIES,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Create a ServiceAccount per service (`kubectl create serviceaccount <service> -n <ns>`),
set `spec.template.spec.serviceAccountName: <service>` on the workload, and bind only
what that service needs to it. Then make the default one inert: `kubectl patch
serviceaccount default -n <ns> -p '{"automountServiceAccountToken": false}'`.""",
    frameworks=frameworks(cis=["5.1.5"], iso=["A.5.16", "A.8.2"], soc2=["CC6.1", "CC6.2"]),
    references=(_SA_DOCS, _SA_TASK),
)
def default_service_account(inv: Inventory) -> Iterator[Result]:
    """A workload whose pods name no service account (or ``default``). Every pod of
    the namespace that names none shares that identity, so it cannot be scoped to one
    service, and whatever is granted to it is granted to all of them."""
    for workload, pods in workloads(inv).items():
        accounts = sorted({str(pod.attrs.get("service_account") or "default") for pod in pods})
        evidence = {"workload": workload.ref, "service_accounts": accounts}
        if "default" in accounts:
            yield Result(
                workload.uid,
                Status.FAIL,
                detail=f"{workload.label} runs as ServiceAccount {workload.namespace}/default, "
                "the identity of every pod in the namespace that names none",
                evidence=evidence,
            )
        else:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} runs as ServiceAccount "
                f"{workload.namespace}/{', '.join(accounts)}",
                evidence=evidence,
            )


@check(
    id="k8s-sa-shared",
    title="ServiceAccount shared by several workloads",
    view=View.IDENTITIES,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Pod", "ServiceAccount"),
    remediation="""
Give each workload its own ServiceAccount (`kubectl create serviceaccount <workload> -n
<ns>`; set `serviceAccountName` in its pod template) with its own RoleBindings and, on
EKS, its own IAM role (`eks.amazonaws.com/role-arn`). One identity per service keeps a
breach of one service from carrying every other service's permissions, and keeps the
audit trail attributable.""",
    frameworks=frameworks(iso=["A.5.16", "A.8.2", "A.5.15"], soc2=["CC6.1", "CC6.3"]),
    references=(_SA_DOCS, f"{_RBAC_GOOD}#least-privilege"),
)
def shared_service_account(inv: Inventory) -> Iterator[Result]:
    """One finding per ServiceAccount, listing the workloads whose pods run as it;
    FAIL when there is more than one. Only running pods are seen: a workload scaled to
    zero does not count."""
    users: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for workload, pods in workloads(inv).items():
        for pod in pods:
            account = str(pod.attrs.get("service_account") or "default")
            users[(workload.scope, workload.namespace, account)].add(workload.ref)
    accounts = {
        (sa.scope, sa.namespace, sa.name): sa.uid for sa in inv.of(PROVIDER, "ServiceAccount")
    }
    for key in sorted(set(users) | set(accounts)):
        scope, namespace, name = key
        uid = accounts.get(key) or k8s_uid(scope, "ServiceAccount", name, namespace)
        using = sorted(users.get(key, ()))
        evidence = {"service_account": f"{namespace}/{name}", "workloads": using}
        if len(using) > 1:
            yield Result(
                uid,
                Status.FAIL,
                detail=f"ServiceAccount {namespace}/{name} is the identity of {len(using)} "
                f"workloads: {names_list(using)}",
                evidence=evidence,
            )
        else:
            yield Result(
                uid,
                Status.PASS,
                detail=f"ServiceAccount {namespace}/{name} is used by "
                + (f"one workload: {using[0]}" if using else "no running workload"),
                evidence=evidence,
            )


@check(
    id="k8s-pod-automount-token",
    title="Kubernetes API token mounted without opt-out",
    view=View.IDENTITIES,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("Pod", "ServiceAccount"),
    remediation="""
If the workload never calls the Kubernetes API, opt out: set
`automountServiceAccountToken: false` on its ServiceAccount (`kubectl patch
serviceaccount <sa> -n <ns> -p '{"automountServiceAccountToken": false}'`) or in the pod
template. A workload that does call the API keeps the token: waive this finding with
that reason.""",
    frameworks=frameworks(cis=["5.1.6"], iso=["A.8.2", "A.5.17"], soc2=["CC6.1"]),
    references=(f"{_SA_TASK}#opt-out-of-api-credential-automounting", _SA_DOCS),
)
def automount_token(inv: Inventory) -> Iterator[Result]:
    """Pods with a projected Kubernetes API token mounted because neither the pod nor
    its ServiceAccount opted out. postureapp cannot know whether the workload calls the
    API; most application workloads do not, hence low severity. The detail says whether
    the mount was asked for explicitly or is Kubernetes' default."""
    accounts = {(sa.scope, sa.namespace, sa.name): sa for sa in inv.of(PROVIDER, "ServiceAccount")}
    for workload, pods in workloads(inv).items():
        mounted = [pod for pod in pods if pod.attrs.get("service_account_token_mounted")]
        if any("service_account_token_mounted" not in pod.attrs for pod in pods) and not mounted:
            yield Result(
                workload.uid,
                Status.UNKNOWN,
                detail=f"{workload.label}: the collector did not say whether a token is mounted",
            )
            continue
        names = sorted({str(pod.attrs.get("service_account") or "default") for pod in pods})
        evidence = {"workload": workload.ref, "service_accounts": names}
        if not mounted:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} has no Kubernetes API token mounted",
                evidence=evidence,
            )
            continue
        how = set()
        for pod in mounted:
            account = accounts.get(
                (pod.scope, pod.namespace, str(pod.attrs.get("service_account") or "default"))
            )
            if pod.attrs.get("automount_service_account_token") is True:
                how.add("requested by the pod spec")
            elif account is not None and account.attrs.get("automount_service_account_token"):
                how.add(f"enabled on ServiceAccount {account.name}")
            else:
                how.add("Kubernetes' default: neither the pod nor its ServiceAccount opts out")
        evidence["automount"] = sorted(how)
        yield Result(
            workload.uid,
            Status.FAIL,
            detail=f"{workload.label} mounts a Kubernetes API token for ServiceAccount "
            f"{workload.namespace}/{', '.join(names)} ({'; '.join(sorted(how))}); whether it "
            "needs the API cannot be seen from here",
            evidence=evidence,
        )


@check(
    id="k8s-pod-privileged",
    title="Privileged container",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Remove `securityContext.privileged: true` from the containers; grant the one capability
needed instead (`capabilities: {add: [NET_ADMIN]}`), or move the task to a node-level
agent. Enforce it: `kubectl label ns <ns> pod-security.kubernetes.io/enforce=baseline`
(or `restricted`). A privileged container is root on the node.""",
    frameworks=frameworks(cis=["5.2.2"], iso=["A.8.2", "A.8.9"], soc2=["CC6.1", "CC6.8"]),
    references=(f"{_PSS}#baseline", _PSA),
)
def privileged(inv: Inventory) -> Iterator[Result]:
    """A workload with a privileged container (init and ephemeral containers too)."""
    for workload, pods in workloads(inv).items():
        containers = sorted(
            {
                str(container.get("name"))
                for pod in pods
                for container in pod.attrs.get("containers") or []
                if container.get("privileged")
            }
        )
        if not containers and any(pod.attrs.get("privileged") for pod in pods):
            containers = ["(unnamed)"]
        evidence = {"workload": workload.ref, "privileged_containers": containers}
        if containers:
            yield Result(
                workload.uid,
                Status.FAIL,
                detail=f"{workload.label} runs privileged containers: {', '.join(containers)}",
                evidence=evidence,
            )
        else:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} runs no privileged container",
                evidence=evidence,
            )


_HOST_FLAGS = (("host_network", "hostNetwork"), ("host_pid", "hostPID"), ("host_ipc", "hostIPC"))


@check(
    id="k8s-pod-host-namespace",
    title="Pod shares the node's network, PID or IPC namespace",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod template; expose ports
through a Service instead of the host's network. Node agents that truly need them
(node-exporter, CNI) belong in a dedicated namespace with Pod Security `privileged`
and a waiver; everything else gets `pod-security.kubernetes.io/enforce=baseline`.""",
    frameworks=frameworks(
        cis=["5.2.3", "5.2.4", "5.2.5"], iso=["A.8.2", "A.8.9", "A.8.22"], soc2=["CC6.1"]
    ),
    references=(f"{_PSS}#baseline", _PSA),
)
def host_namespace(inv: Inventory) -> Iterator[Result]:
    """A workload with hostNetwork (sees every interface of the node, reaches the kubelet
    and cloud metadata as the node), hostPID (sees and signals the node's processes) or
    hostIPC."""
    for workload, pods in workloads(inv).items():
        flags = [label for attr, label in _HOST_FLAGS if any(pod.attrs.get(attr) for pod in pods)]
        evidence = {"workload": workload.ref, "host_namespaces": flags}
        if flags:
            yield Result(
                workload.uid,
                Status.FAIL,
                detail=f"{workload.label} uses {', '.join(flags)}",
                evidence=evidence,
            )
        else:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} shares no host namespace",
                evidence=evidence,
            )
