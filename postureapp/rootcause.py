"""Root causes: findings that one fix resolves together, folded under the thing to fix.

One ClusterRoleBinding to cluster-admin fails seven RBAC checks; a PERMISSIVE mesh fails
mTLS in the cluster and every namespace; a namespace without NetworkPolicy fails both
"no default-deny" and "no NetworkPolicy"; a Service published to the internet fails the
exposure checks, the probes of its address and the attack paths that start at it; an IAM
group's policy fails the group and every member that holds it only through the group; a
source that could not be read leaves every finding that needed it unknown.

:func:`root_causes` names those shared causes from what the findings already say (their
resource and evidence), at judge time, once per snapshot; the result is stored with the
snapshot as a derived fact (``root_causes``) and read by the dashboard and the JSON export.
It is a pure function: no I/O, no inventory, so a snapshot merged from parts gets the
same answer as one polled here.

A finding no rule names is its own cause and is not listed: a cause is listed only when
it affects at least two findings (one row already says everything about one finding).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from postureapp.model import Finding, Severity, split_k8s_uid

__all__ = ["DERIVED_NAME", "cause_of", "finding_facts", "root_causes"]

# The name of the derived fact the engine stores with each snapshot.
DERIVED_NAME = "root_causes"

_NOT_PASSING = ("fail", "unknown", "error")
_RANK = {severity.value: severity.rank for severity in Severity}
# "cannot evaluate: <reason>" (the engine, whole-scope checks) or
# "cannot evaluate <name>: <reason>" (one node of the identity graph).
_CANNOT = re.compile(r"^cannot evaluate(?: [^:]*)?: ")
_IAM = re.compile(
    r"^arn:aws[\w-]*:iam::(?P<account>\d*):(?P<type>user|group|role)/(?:.*/)?(?P<name>[^/]+)$"
)
_ELB = re.compile(
    r"^arn:aws[\w-]*:elasticloadbalancing:(?P<region>[^:]*):(?P<account>\d*):"
    r"loadbalancer/(?:(?:app|net|gwy)/)?(?P<name>[^/]+)"
)
_LABEL_MAX = 200


def finding_facts(finding: Finding) -> dict[str, Any]:
    """The fields of a finding :func:`cause_of` reads, as the JSON export and store have them."""
    return {
        "fingerprint": finding.fingerprint,
        "check_id": finding.check_id,
        "resource_uid": finding.resource_uid,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "detail": finding.detail,
        "evidence": finding.evidence or {},
    }


def _qualified(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _via_groups(value: Any, found: set[Any], depth: int = 0) -> None:
    """Every ``via_group`` named in an IAM finding's evidence (None: granted directly)."""
    if depth > 6:
        return
    if isinstance(value, Mapping):
        if "via_group" in value:
            found.add(value["via_group"])
        for item in value.values():
            if isinstance(item, Mapping | list):
                _via_groups(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _via_groups(item, found, depth + 1)


def _single(values: Any) -> str | None:
    """The one string of a list that holds exactly one (else None: several causes)."""
    if isinstance(values, list) and len(set(values)) == 1 and isinstance(values[0], str):
        return values[0]
    return None


def cause_of(finding: Mapping[str, Any]) -> tuple[str, str] | None:
    """(cause key, label) of one failing or unknown finding, or None when no rule names a
    cause it could share with another finding."""
    status = finding.get("status")
    if status not in _NOT_PASSING:
        return None
    check = finding.get("check_id") or ""
    uid = finding.get("resource_uid") or ""
    evidence = finding.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        evidence = {}
    if status != "fail":
        # Not judged: the cause is the source that could not be read, whatever the check.
        reason = _CANNOT.sub("", finding.get("detail") or "").strip()
        if not reason:
            return None
        return f"unread:{reason}", f"not judged: {reason}"
    k8s = split_k8s_uid(uid)
    if check.startswith("k8s-rbac-") and k8s and k8s[2] in ("RoleBinding", "ClusterRoleBinding"):
        cluster, namespace, kind, name = k8s
        label = f"{kind} {_qualified(namespace, name)}"
        if isinstance(evidence.get("role"), str):
            label += f" grants {evidence['role']}"
        subjects = evidence.get("subjects")
        if isinstance(subjects, list) and subjects:
            label += " to " + ", ".join(str(s) for s in subjects[:3])
            label += f" (+{len(subjects) - 3})" if len(subjects) > 3 else ""
        return f"binding:{uid}", f"{label} [{cluster}]"
    if check == "k8s-mesh-mtls" and k8s:
        # One control missing cluster-wide: the mesh does not enforce mTLS anywhere it
        # is not told to. The namespaces' rows expand under it.
        label = f"mesh mTLS not enforced in cluster {k8s[0]}"
        policy, mode = evidence.get("policy"), evidence.get("mode")
        if isinstance(policy, str) and isinstance(mode, str):
            label += f" (mesh-wide PeerAuthentication {policy} is {mode})"
        return f"mesh:{k8s[0]}", label
    if check.startswith("k8s-netpol-") and k8s and k8s[2] == "Namespace":
        cluster, _, _, name = k8s
        return f"netpol:{uid}", f"namespace {name} has no default-deny NetworkPolicy [{cluster}]"
    iam = _IAM.match(uid)
    if check.startswith("aws-iam-") and iam and iam["type"] in ("user", "group"):
        groups: set[Any] = set()
        _via_groups(evidence, groups)
        if iam["type"] == "group" and groups == {None}:
            group = iam["name"]
        elif iam["type"] == "user" and len(groups) == 1 and None not in groups:
            group = str(next(iter(groups)))
        else:
            group = None
        if group is not None:
            account = iam["account"]
            key = f"iam-group:{account}:{group}"
            return key, f'IAM group "{group}" policy, held by the group and its members [{account}]'
    elb = _ELB.match(uid) if check.startswith(("aws-elb-", "aws-alb-")) else None
    if elb is not None:
        # Every load-balancer check is about a public one: taking it down, or making
        # it internal, resolves them all.
        where = f"{elb['account']}/{elb['region']}"
        return f"exposure:{uid}", f'load balancer "{elb["name"]}" internet-facing [{where}]'
    if k8s and k8s[2] == "Service" and (check.startswith("k8s-") or check.startswith("probe-")):
        service = uid
    else:
        service = _single(evidence.get("exposed_by")) if check.startswith("probe-") else None
        if service is None and check.startswith("path-exposed-"):
            service = _single(evidence.get("endpoints"))
    if service is not None and (parts := split_k8s_uid(service)) and parts[2] == "Service":
        cluster, namespace, _, name = parts
        label = f"Service {_qualified(namespace, name)} published"
        exposed_by = evidence.get("exposed_by") if service == uid else None
        if isinstance(exposed_by, list) and exposed_by and isinstance(exposed_by[0], str):
            label += f" by {exposed_by[0]}"
        return f"exposure:{service}", f"{label} [{cluster}]"
    return None


def _cause_id(key: str) -> str:
    return "rc-" + hashlib.blake2b(key.encode(), digest_size=5).hexdigest()


def root_causes(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The causes shared by two findings or more: id, label, kind, severity (the worst of
    its findings), status (fail when any fails, else unknown) and the findings'
    fingerprints; worst first, then the most findings. Deterministic for equal input."""
    groups: dict[str, dict[str, Any]] = {}
    for finding in findings:
        cause = cause_of(finding)
        if cause is None:
            continue
        key, label = cause
        group = groups.setdefault(key, {"label": label, "rank": 0, "fail": False, "fps": set()})
        group["fps"].add(finding["fingerprint"])
        rank = _RANK.get(finding.get("severity") or "", 0)
        # The findings of one cause may word it differently (the mesh-wide policy's row
        # names the policy, a namespace's does not): the most specific, i.e. longest,
        # label names it; ties go to the smallest, so equal input gives equal output.
        if (-len(label), label) < (-len(group["label"]), group["label"]):
            group["label"] = label
        group["rank"] = max(group["rank"], rank)
        group["fail"] = group["fail"] or finding.get("status") == "fail"
    by_rank = {severity.rank: severity.value for severity in Severity}
    causes = [
        {
            "id": _cause_id(key),
            "kind": key.partition(":")[0],
            "label": group["label"][:_LABEL_MAX],
            "severity": by_rank.get(group["rank"], "info"),
            "status": "fail" if group["fail"] else "unknown",
            "count": len(group["fps"]),
            "fingerprints": sorted(group["fps"]),
        }
        for key, group in groups.items()
        if len(group["fps"]) >= 2
    ]
    causes.sort(key=lambda c: (-_RANK[c["severity"]], -c["count"], c["label"], c["id"]))
    return causes
