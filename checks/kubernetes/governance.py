"""Governance: one verdict per cluster for each Kubernetes control, and the controls.

The per-cluster checks hang on the synthetic ``Cluster`` resource and put the ratio in
the detail (the governance view shows coverage at a glance); the per-resource checks
of the other modules are cited as the controls' evidence, so a control is *partial*
when some namespaces or bindings fail and others pass.

Not here on purpose: audit logging and secrets encryption at rest. For a managed
cluster neither can be seen from the Kubernetes API (they are control-plane settings
of EKS and the like), and a check that cannot see them must not pass. Cross-plane
controls combine the AWS evidence (EKS logging and encryption settings) with the
Kubernetes checks that bear on them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from postureapp.checks.registry import Result, check, control
from postureapp.domain.kubernetes import rbac
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
from postureapp.domain.kubernetes.rbac import RBAC_KINDS
from postureapp.domain.kubernetes.tokens import legacy_tokens
from postureapp.domain.text import names_list
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import KyvernoPolicyFacts, NamespaceFacts
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "n/a"


@check(
    id="k8s-gov-default-deny-coverage",
    title="Default-deny ingress coverage of namespaces",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Namespace", "NetworkPolicy"),
    remediation="""
Add a default-deny ingress NetworkPolicy (`podSelector: {}`, `policyTypes: [Ingress]`,
no rules) to each namespace listed, then explicit allow policies per caller; make it
part of the namespace template (Helm chart, Kyverno generate rule) so new namespaces
start segmented.""",
    frameworks={
        "ISO 27001:2022": ["A.8.22", "A.8.20"],
        "CIS Kubernetes": ["5.3.2"],
        "SOC 2": ["CC6.6"],
    },
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic",
    ),
    controls=("k8s-network-segmentation",),
)
def default_deny_coverage(inv: Inventory) -> Iterator[Result]:
    """Per cluster: the share of namespaces (outside kube-system, kube-public,
    kube-node-lease) whose pods are denied ingress unless a policy allows it. FAIL
    below 100%."""
    policies = policies_by_namespace(inv)
    for scope in scopes_of(inv, "Namespace"):
        namespaces = sorted(ns.name for ns in user_namespaces(inv) if ns.scope == scope)
        missing = [
            name for name in namespaces if not default_deny(policies.get((scope, name), []))[0]
        ]
        covered = len(namespaces) - len(missing)
        evidence = {
            "covered": covered,
            "total": len(namespaces),
            "ratio": round(covered / len(namespaces), 4) if namespaces else None,
            "without": missing,
        }
        ratio = f"{covered} of {len(namespaces)} namespaces ({_percent(covered, len(namespaces))})"
        if missing:
            yield Result(
                cluster_uid(scope),
                Status.FAIL,
                detail=f"{ratio} deny ingress by default; without: {names_list(missing)}",
                evidence=evidence,
            )
        else:
            yield Result(
                cluster_uid(scope),
                Status.PASS,
                detail=f"{ratio} deny ingress by default",
                evidence=evidence,
            )


@check(
    id="k8s-gov-mtls-coverage",
    title="Service-to-service mTLS coverage of namespaces",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Namespace", "Pod", "PeerAuthentication", "DestinationRule"),
    remediation="""
Bring the namespaces listed into the mesh (`kubectl label ns <ns> istio-injection=enabled`
and restart their workloads) and require STRICT mTLS for them (a mesh-wide
PeerAuthentication `{spec: {mtls: {mode: STRICT}}}` in istio-system, no PERMISSIVE or
DISABLE overrides). Without Istio, install a mesh first (see k8s-mesh-absent).""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24", "A.5.14"], "SOC 2": ["CC6.7"]},
    references=("https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/",),
    controls=("k8s-mtls-between-services",),
    no_benchmark="no CIS recommendation on service-mesh mTLS",
)
def mtls_coverage(inv: Inventory) -> Iterator[Result]:
    """Per cluster: the share of namespaces (outside the control plane's and the mesh
    root) that require mTLS with no exception, per k8s-mesh-mtls. No Istio: 0%."""
    for scope in scopes_of(inv, "Namespace"):
        state = installed(inv, scope, "istio")
        if state is None and inv.of(PROVIDER, "PeerAuthentication", scope):
            state = True
        uid = cluster_uid(scope)
        if state is None:
            yield Result(uid, Status.UNKNOWN, detail="whether Istio is installed is unknown")
            continue
        if state is False:
            total = len([ns for ns in user_namespaces(inv) if ns.scope == scope])
            yield Result(
                uid,
                Status.FAIL,
                detail=f"0 of {total} namespaces require mTLS: no service mesh is installed",
                evidence={"strict": 0, "total": total, "ratio": 0.0 if total else None},
            )
            continue
        verdicts = mesh_verdicts(inv, scope)
        mesh = verdicts[0]
        judged = [(v.namespace.name, v.status) for v in verdicts[1:] if v.namespace is not None]
        strict = sorted(name for name, status in judged if status is Status.PASS)
        weak = sorted(name for name, status in judged if status is not Status.PASS)
        total = len(judged)
        evidence = {
            "strict": len(strict),
            "total": total,
            "ratio": round(len(strict) / total, 4) if total else None,
            "without": weak,
            "mesh_mode": mesh.evidence.get("mode"),
        }
        ratio = f"{len(strict)} of {total} namespaces ({_percent(len(strict), total)})"
        if weak:
            yield Result(
                uid,
                Status.FAIL,
                detail=f"{ratio} require mTLS ({mesh.detail}); without: {names_list(weak)}",
                evidence=evidence,
            )
        else:
            yield Result(
                uid, Status.PASS, detail=f"{ratio} require mTLS ({mesh.detail})", evidence=evidence
            )


_ENFORCING_LEVELS = ("baseline", "restricted")


@check(
    id="k8s-gov-admission-policy",
    title="Admission policy enforcement (Pod Security, Gatekeeper, Kyverno)",
    view=View.GOVERNANCE,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("Namespace",),
    remediation="""
Enforce Pod Security on every application namespace: `kubectl label ns <ns>
pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest`
(`baseline` where restricted is not yet possible), and add policy as code for the rest
(Gatekeeper constraints with `enforcementAction: deny`, or Kyverno policies with
`validationFailureAction: Enforce`), checked in CI and reviewed like code.""",
    frameworks={
        "ISO 27001:2022": ["A.8.9", "A.8.27", "A.5.36"],
        "CIS Kubernetes": ["5.2.1"],
        "SOC 2": ["CC6.8", "CC8.1"],
    },
    references=(
        "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
        "https://open-policy-agent.github.io/gatekeeper/website/docs/",
        "https://kyverno.io/docs/",
    ),
    controls=("k8s-admission-policy",),
)
def admission_policy(inv: Inventory) -> Iterator[Result]:
    """Per cluster: which admission policy mechanisms enforce something — Pod Security
    ``enforce`` labels at baseline/restricted (``privileged`` enforces nothing),
    Gatekeeper constraint templates, Kyverno policies in Enforce mode. FAIL when none;
    UNKNOWN when none was found but Gatekeeper's or Kyverno's kinds could not be read.
    Gatekeeper constraints themselves (and their dryrun/warn/deny action) are not
    collected, so a template counts as Gatekeeper being in use."""
    for scope in scopes_of(inv, "Namespace"):
        uid = cluster_uid(scope)
        namespaces = [ns for ns in user_namespaces(inv) if ns.scope == scope]
        levels: dict[str, list[str]] = defaultdict(list)
        for ns in namespaces:
            level = (facts_of(ns, NamespaceFacts).get("pod_security") or {}).get("enforce")
            if level in _ENFORCING_LEVELS:
                levels[str(level)].append(ns.name)
        present, notes = [], []
        enforced = sum(len(names) for names in levels.values())
        if enforced:
            by_level = "; ".join(
                f"{level}: {names_list(sorted(levels[level]), 5)}"
                for level in _ENFORCING_LEVELS
                if levels[level]
            )
            present.append(
                f"Pod Security enforce on {enforced} of {len(namespaces)} namespaces ({by_level})"
            )
        templates = sorted(t.name for t in inv.of(PROVIDER, "ConstraintTemplate", scope))
        if templates:
            present.append(f"Gatekeeper (constraint templates: {names_list(templates, 5)})")
        elif installed(inv, scope, "gatekeeper"):
            notes.append("Gatekeeper is installed but has no constraint template")
        kyverno = [*inv.of(PROVIDER, "ClusterPolicy", scope), *inv.of(PROVIDER, "Policy", scope)]
        enforcing = sorted(
            qualified(p) for p in kyverno if _kyverno_enforces(facts_of(p, KyvernoPolicyFacts))
        )
        if enforcing:
            present.append(f"Kyverno (enforcing policies: {names_list(enforcing, 5)})")
        elif kyverno:
            notes.append(
                f"Kyverno policies audit only: {names_list(sorted(map(qualified, kyverno)), 5)}"
            )
        evidence = {
            "pod_security_enforced": enforced,
            "namespaces": len(namespaces),
            "gatekeeper_templates": len(templates),
            "kyverno_enforcing": len(enforcing),
        }
        if present:
            yield Result(uid, Status.PASS, detail="; ".join(present + notes), evidence=evidence)
            continue
        gaps = inv.why_unknown(PROVIDER, scope, ("ConstraintTemplate", "ClusterPolicy", "Policy"))
        unsure = [p for p in ("gatekeeper", "kyverno") if installed(inv, scope, p) is None]
        if gaps or (unsure and inv.get(uid) is not None):
            reason = gaps or f"whether {' and '.join(unsure)} is installed is unknown"
            yield Result(
                uid,
                Status.UNKNOWN,
                detail=f"no Pod Security enforcement found, and {reason}",
                evidence=evidence,
            )
            continue
        yield Result(
            uid,
            Status.FAIL,
            detail="no admission policy enforces anything: no Pod Security enforce label at "
            "baseline or restricted, no Gatekeeper constraint template, no Kyverno policy in "
            "Enforce mode" + (f" ({'; '.join(notes)})" if notes else ""),
            evidence=evidence,
        )


def _kyverno_enforces(attrs: KyvernoPolicyFacts) -> bool:
    if str(attrs.get("validation_failure_action") or "").lower() == "enforce":
        return True
    return any(
        str(rule.get("failure_action") or "").lower() == "enforce"
        for rule in attrs.get("rules") or []
    )


@check(
    id="k8s-gov-least-privilege",
    title="Share of identities with admin-equivalent rights",
    view=View.GOVERNANCE,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=(*RBAC_KINDS, "ServiceAccount"),
    remediation="""
Review each identity listed (`kubectl auth can-i --list --as=<user>` or
`--as=system:serviceaccount:<ns>:<sa>`), replace its cluster-admin (or `*` on `*`)
binding with a role scoped to what it does, and keep human administration behind
impersonation or a short-lived group. Waive, with a reason, the one or two platform
identities that truly need it.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.18"],
        "CIS Kubernetes": ["5.1.1", "5.1.3"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=("https://kubernetes.io/docs/concepts/security/rbac-good-practices/",),
    controls=("least-privilege", "k8s-least-privilege"),
)
def least_privilege(inv: Inventory) -> Iterator[Result]:
    """Per cluster: of all identities — every ServiceAccount, plus every user and group
    named by a binding — the share holding admin-equivalent rights (cluster-admin or
    ``*`` on ``*``), cluster-wide or in a namespace. Control-plane bindings are not
    counted (see :mod:`postureapp.checks.kubernetes.identities`). FAIL when any identity holds
    them."""
    grants_by_scope: dict[str, list[rbac.Grant]] = defaultdict(list)
    for grant in rbac.index(inv).grants():
        grants_by_scope[grant.binding.scope].append(grant)
    for scope in scopes_of(inv, "ServiceAccount", "ClusterRoleBinding", "RoleBinding"):
        identities: set[rbac.Subject] = {
            rbac.Subject("ServiceAccount", sa.name, sa.namespace)
            for sa in inv.of(PROVIDER, "ServiceAccount", scope)
        }
        admins: dict[rbac.Subject, set[str]] = defaultdict(set)
        for grant in grants_by_scope.get(scope, []):
            if grant.control_plane:
                continue
            identities.update(grant.subjects)
            if grant.role_found and rbac.admin_rules(grant):
                for subject in grant.subjects:
                    admins[subject].add(f"{grant.binding_ref} {grant.where}")
        listed = [
            f"{subject.label} ({', '.join(sorted(admins[subject]))})" for subject in sorted(admins)
        ]
        total = len(identities)
        evidence = {
            "admin_equivalent": len(admins),
            "identities": total,
            "ratio": round(len(admins) / total, 4) if total else None,
            "holders": listed,
        }
        ratio = f"{len(admins)} of {total} identities ({_percent(len(admins), total)})"
        if admins:
            yield Result(
                cluster_uid(scope),
                Status.FAIL,
                detail=f"{ratio} hold admin-equivalent rights: {names_list(listed, 5)}",
                evidence=evidence,
            )
        else:
            yield Result(
                cluster_uid(scope),
                Status.PASS,
                detail=f"{ratio} hold admin-equivalent rights (control-plane bindings aside)",
                evidence=evidence,
            )


@check(
    id="k8s-gov-short-lived-credentials",
    title="Workload credentials are short-lived (no legacy tokens)",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Secret",),
    remediation="""
Delete the long-lived service-account token Secrets listed (see k8s-secret-legacy-token)
after moving their users to projected tokens or `kubectl create token`; enable the
LegacyServiceAccountTokenCleanUp behaviour (on by default from 1.29) so unused ones are
invalidated and removed.""",
    frameworks={"ISO 27001:2022": ["A.5.17", "A.8.5"], "SOC 2": ["CC6.1"]},
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner",
    ),
    controls=("k8s-short-lived-credentials",),
    no_benchmark="no CIS recommendation on legacy service-account token Secrets",
)
def short_lived_credentials(inv: Inventory) -> Iterator[Result]:
    """Per cluster: FAIL while any long-lived service-account token Secret exists."""
    for scope in scopes_of(inv, "Secret", "Namespace"):
        tokens = sorted(qualified(secret) for secret in legacy_tokens(inv, scope))
        evidence = {"legacy_tokens": tokens}
        if tokens:
            yield Result(
                cluster_uid(scope),
                Status.FAIL,
                detail=f"{len(tokens)} long-lived service-account token Secrets: "
                f"{names_list(tokens)}",
                evidence=evidence,
            )
        else:
            yield Result(
                cluster_uid(scope),
                Status.PASS,
                detail="no long-lived service-account token Secret: workloads use projected, "
                "expiring tokens",
                evidence=evidence,
            )


# -- controls --------------------------------------------------------------------------

control(
    id="k8s-network-segmentation",
    title="Network segmentation between services (Kubernetes)",
    frameworks={
        "ISO 27001:2022": ["A.8.22", "A.8.20"],
        "SOC 2": ["CC6.6"],
        "CIS Kubernetes": ["5.3.2"],
    },
    description="Every application namespace denies ingress by default and allows only "
    "the callers each service needs, so one breached service cannot reach all others.",
)

control(
    id="k8s-mtls-between-services",
    title="Mutual TLS between services",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24", "A.5.14"], "SOC 2": ["CC6.7"]},
    description="Service-to-service traffic is encrypted and mutually authenticated by "
    "the mesh (STRICT mTLS), not trusted because it comes from inside the network.",
)

control(
    id="k8s-admission-policy",
    title="Admission policy as code",
    frameworks={
        "ISO 27001:2022": ["A.8.9", "A.8.27"],
        "SOC 2": ["CC6.8", "CC8.1"],
        "CIS Kubernetes": ["5.2.1", "5.2.2"],
    },
    description="Pod Security admission, Gatekeeper or Kyverno reject unsafe workloads "
    "before they run; privileged and host-namespace pods are the evidence of what "
    "got through.",
)

control(
    id="k8s-least-privilege",
    title="Least privilege for Kubernetes identities",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.18"],
        "SOC 2": ["CC6.1", "CC6.3"],
        "CIS Kubernetes": ["5.1.1", "5.1.2", "5.1.3", "5.1.5", "5.1.8"],
    },
    description="One identity per service, each bound to only what it uses; no "
    "standing cluster-admin, wildcard or escalation rights, nothing for anonymous users.",
)

control(
    id="k8s-short-lived-credentials",
    title="Short-lived and rotated credentials (Kubernetes)",
    frameworks={"ISO 27001:2022": ["A.5.17", "A.8.5"], "SOC 2": ["CC6.1"]},
    description="Workloads authenticate with projected, expiring tokens; no long-lived "
    "token Secrets; stored secrets are rotated within the threshold.",
)
