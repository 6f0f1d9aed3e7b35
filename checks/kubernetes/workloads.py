"""Workload checks: which identity each workload runs as, and how isolated it is.

Each check judges every workload (:mod:`postureapp.domain.kubernetes.workloads`): the
top-most controller the inventory holds (Deployment, StatefulSet, DaemonSet, CronJob,
Job or ReplicaSet of its own) or a bare pod, from its pod template *and* its running
pods, so a workload scaled to zero, a CronJob before its first run and a DaemonSet are
judged too, and a pod changed after creation (an injected sidecar) is not missed.
Findings hang on the workload's uid, which survives rollouts. Mirror pods of static
pods (owned by a Node) are left out: the kubelet runs them from files on the node, they
cannot use service accounts, and no API change can fix them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes import rbac
from postureapp.domain.kubernetes.objects import PROVIDER
from postureapp.domain.kubernetes.pods import Privilege, privileges, token_mounted
from postureapp.domain.kubernetes.rbac import RBAC_KINDS
from postureapp.domain.kubernetes.workloads import Workload, specs, workloads
from postureapp.domain.text import names_list
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import ServiceAccountFacts
from postureapp.facts.kubernetes_workloads import PodFacts, PodSpecFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View, k8s_uid

_SA_DOCS = "https://kubernetes.io/docs/concepts/security/service-accounts/"
_SA_TASK = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"
_PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
_PSA = "https://kubernetes.io/docs/concepts/security/pod-security-admission/"
_RBAC_GOOD = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"


def _accounts(workload: Workload, pods: list[Resource]) -> list[str]:
    """The ServiceAccounts a workload runs (or would run) as."""
    return sorted(
        {str(spec.get("service_account") or "default") for _, spec in specs(workload, pods)}
    )


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
    frameworks={
        "ISO 27001:2022": ["A.5.16", "A.8.2"],
        "CIS Kubernetes": ["5.1.5"],
        "SOC 2": ["CC6.1", "CC6.2"],
    },
    references=(_SA_DOCS, _SA_TASK),
    controls=("one-identity-per-service", "k8s-least-privilege"),
)
def default_service_account(inv: Inventory) -> Iterator[Result]:
    """A workload whose pods name no service account (or ``default``). Every pod of
    the namespace that names none shares that identity, so it cannot be scoped to one
    service, and whatever is granted to it is granted to all of them."""
    for workload, pods in workloads(inv).items():
        accounts = _accounts(workload, pods)
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
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2", "A.5.15"], "SOC 2": ["CC6.1", "CC6.3"]},
    references=(_SA_DOCS, f"{_RBAC_GOOD}#least-privilege"),
    controls=("one-identity-per-service", "k8s-least-privilege"),
    no_benchmark="no CIS recommendation on ServiceAccounts shared between workloads",
)
def shared_service_account(inv: Inventory) -> Iterator[Result]:
    """One finding per ServiceAccount, listing the workloads that run as it (from their
    templates and pods, so a workload scaled to zero counts); FAIL when there is more
    than one."""
    users: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for workload, pods in workloads(inv).items():
        for account in _accounts(workload, pods):
            users[(workload.scope, workload.namespace, account)][workload.ref] = workload.uid
    accounts = {
        (sa.scope, sa.namespace, sa.name): sa.uid for sa in inv.of(PROVIDER, "ServiceAccount")
    }
    for key in sorted(set(users) | set(accounts)):
        scope, namespace, name = key
        using = sorted(users.get(key, {}))
        uid = accounts.get(key)
        if uid is None:
            # Not collected (a dump without it): the first workload, when the collection
            # recorded what it read, so the finding names a resource the export holds.
            first = users[key][using[0]]
            recorded = bool(inv.kind_states(PROVIDER, scope))
            uid = first if recorded else k8s_uid(scope, "ServiceAccount", name, namespace)
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
                + (f"one workload: {using[0]}" if using else "no workload"),
                evidence=evidence,
            )


def _mounted(
    workload: Workload, pods: list[Resource], accounts: dict[tuple[str, str, str], Resource]
) -> dict[str, list[str]]:
    """ServiceAccount -> how its token gets mounted, for the accounts whose token this
    workload's pods mount (running pods say; a template is judged by the settings)."""
    mounted: dict[str, list[str]] = defaultdict(list)
    sources: list[tuple[PodSpecFacts, bool]] = []
    for pod in pods:
        facts = facts_of(pod, PodFacts)
        sources.append((facts, bool(facts.get("service_account_token_mounted"))))
    if not pods and workload.controller is not None:
        spec = specs(workload, [])[0][1]
        account = accounts.get((workload.scope, workload.namespace, _name(spec)))
        sa = facts_of(account, ServiceAccountFacts) if account else None
        sources.append((spec, token_mounted(spec, sa)))
    for spec, is_mounted in sources:
        if not is_mounted:
            continue
        name = _name(spec)
        account = accounts.get((workload.scope, workload.namespace, name))
        if spec.get("automount_service_account_token") is True:
            how = "requested by the pod spec"
        elif account is not None and facts_of(account, ServiceAccountFacts).get(
            "automount_service_account_token"
        ):
            how = f"enabled on ServiceAccount {name}"
        else:
            how = "Kubernetes' default: neither the pod nor its ServiceAccount opts out"
        if how not in mounted[name]:
            mounted[name].append(how)
    return mounted


def _name(spec: PodSpecFacts) -> str:
    return str(spec.get("service_account") or "default")


@check(
    id="k8s-pod-automount-token",
    title="Kubernetes API token mounted but never usable",
    view=View.IDENTITIES,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("Pod", "ServiceAccount"),
    remediation="""
The workload's ServiceAccount has no RBAC permission of its own, so the token only helps
whoever breaks in (to probe the API, or to reuse it where a permission appears later).
Opt out: set `automountServiceAccountToken: false` on its ServiceAccount (`kubectl patch
serviceaccount <sa> -n <ns> -p '{"automountServiceAccountToken": false}'`) or in the pod
template. A workload that is meant to call the API gets a Role bound to its own
ServiceAccount, which makes this check pass.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.17"],
        "CIS Kubernetes": ["5.1.6"],
        "SOC 2": ["CC6.1"],
    },
    references=(f"{_SA_TASK}#opt-out-of-api-credential-automounting", _SA_DOCS),
)
def automount_token(inv: Inventory) -> Iterator[Result]:
    """A workload whose pods get a Kubernetes API token (the pod and its ServiceAccount
    did not opt out) while that ServiceAccount holds no API permission of its own: no
    binding names it, its ``system:serviceaccount:`` user or its namespace's
    ``system:serviceaccounts:<ns>`` group. A workload whose ServiceAccount is bound to a
    role needs the token to use it and passes; the detail names the binding."""
    accounts = {(sa.scope, sa.namespace, sa.name): sa for sa in inv.of(PROVIDER, "ServiceAccount")}
    index = rbac.index(inv)
    for workload, pods in workloads(inv).items():
        mounted = _mounted(workload, pods, accounts)
        names = _accounts(workload, pods)
        evidence: dict[str, object] = {"workload": workload.ref, "service_accounts": names}
        # A hand-built inventory may not say whether a token is mounted.
        if not mounted and any("service_account_token_mounted" not in p.attrs for p in pods):
            yield Result(
                workload.uid,
                Status.UNKNOWN,
                detail=f"{workload.label}: the collector did not say whether a token is mounted",
            )
            continue
        if not mounted:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} has no Kubernetes API token mounted",
                evidence=evidence,
            )
            continue
        gap = inv.why_unknown(PROVIDER, workload.scope, RBAC_KINDS)
        if gap:
            yield Result(
                workload.uid,
                Status.UNKNOWN,
                detail=f"{workload.label} mounts a Kubernetes API token; whether its "
                f"ServiceAccount uses it cannot be told ({gap})",
                evidence=evidence,
            )
            continue
        used = {
            name: {
                grant.binding_label
                for grant in index.of_service_account(workload.scope, workload.namespace, name)
            }
            for name in mounted
        }
        bindings = sorted(set().union(*used.values()))
        evidence["automount"] = sorted({how for hows in mounted.values() for how in hows})
        evidence["bindings"] = bindings
        unused = sorted(name for name, held in used.items() if not held)
        if not unused:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} mounts the API token of ServiceAccount "
                f"{workload.namespace}/{', '.join(sorted(mounted))}, which holds permissions "
                f"it uses through it ({names_list(bindings)})",
                evidence=evidence,
            )
            continue
        hows = sorted({how for name in unused for how in mounted[name]})
        yield Result(
            workload.uid,
            Status.FAIL,
            detail=f"{workload.label} mounts a Kubernetes API token for ServiceAccount "
            f"{workload.namespace}/{', '.join(unused)} ({'; '.join(hows)}), which no "
            "binding grants anything: the token serves only an intruder",
            evidence=evidence,
        )


@check(
    id="k8s-pod-privileged",
    title="Privileged or privileged-equivalent container",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Remove `securityContext.privileged: true`, Windows `hostProcess: true` and dangerous
`capabilities.add` entries (ALL, SYS_ADMIN, SYS_MODULE, SYS_PTRACE, BPF, NET_ADMIN...)
from every container, init and ephemeral ones included; start from `capabilities: {drop:
[ALL]}` and add back only what is needed (NET_BIND_SERVICE), or move the task to a
node-level agent. Enforce it: `kubectl label ns <ns>
pod-security.kubernetes.io/enforce=baseline` (or `restricted`). Each of these is root on
the node, or close to it.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.8.9"],
        "CIS Kubernetes": ["5.2.2", "5.2.9", "5.2.11"],
        "SOC 2": ["CC6.1", "CC6.8"],
    },
    references=(f"{_PSS}#baseline", _PSA),
    controls=("k8s-admission-policy",),
)
def privileged(inv: Inventory) -> Iterator[Result]:
    """A workload with a privileged-equivalent container in its template or its pods,
    of any type (init and ephemeral too): ``privileged: true``, Windows HostProcess, or
    an added capability that reaches the node (ALL, SYS_ADMIN, SYS_MODULE, SYS_PTRACE,
    SYS_RAWIO, SYS_BOOT, SYS_TIME, BPF, PERFMON, DAC_READ_SEARCH, MAC_ADMIN,
    MAC_OVERRIDE, NET_ADMIN). High; medium when the only finding is NET_ADMIN in the
    pod's own network namespace (Istio's istio-init, for one)."""
    for workload, pods in workloads(inv).items():
        found: dict[str, Privilege] = {}
        for _, spec in specs(workload, pods):
            for item in privileges(spec):
                found.setdefault(item.describe(), item)
        if not found and any(facts_of(pod, PodFacts).get("privileged") for pod in pods):
            found["(unnamed): privileged"] = Privilege(
                "(unnamed)", "container", "privileged", "root on the node", True
            )
        names = sorted({item.container for item in found.values() if item.what == "privileged"})
        evidence = {
            "workload": workload.ref,
            "privileged_containers": names,
            "privileges": sorted(found),
        }
        if not found:
            yield Result(
                workload.uid,
                Status.PASS,
                detail=f"{workload.label} runs no privileged or privileged-equivalent container",
                evidence=evidence,
            )
            continue
        node_level = any(item.node_level for item in found.values())
        yield Result(
            workload.uid,
            Status.FAIL,
            detail=f"{workload.label} runs privileged-equivalent containers: "
            + "; ".join(f"{text} ({found[text].why})" for text in sorted(found)),
            evidence=evidence,
            severity=None if node_level else Severity.MEDIUM,
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
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.8.9", "A.8.22"],
        "CIS Kubernetes": ["5.2.3", "5.2.4", "5.2.5"],
        "SOC 2": ["CC6.1"],
    },
    references=(f"{_PSS}#baseline", _PSA),
    controls=("k8s-admission-policy",),
)
def host_namespace(inv: Inventory) -> Iterator[Result]:
    """A workload (template or pods) with hostNetwork (sees every interface of the node,
    reaches the kubelet and cloud metadata as the node), hostPID (sees and signals the
    node's processes) or hostIPC."""
    for workload, pods in workloads(inv).items():
        every = [spec for _, spec in specs(workload, pods)]
        flags = [label for attr, label in _HOST_FLAGS if any(spec.get(attr) for spec in every)]
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
