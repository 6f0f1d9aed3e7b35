"""SARIF 2.1.0: the snapshot as a static-analysis log, for GitHub code scanning and any
SARIF viewer.

* one rule per check id of the catalog (``document["checks"]``), plus a minimal rule for
  a failing check the catalog does not know, so every result resolves to a rule;
* one result per **failing** finding, worst first; passes, unknowns and errors are not
  results (a SARIF result is a problem found);
* a waived finding is still a result, with an accepted external suppression carrying
  the waiver's reason and owner, so viewers hide it without losing it;
* ``partialFingerprints`` carry the finding fingerprint: alerts follow a finding across
  snapshots, as waivers and CI gates do;
* the location is logical (the resource uid, name and kind); GitHub code scanning also
  insists on a physical location, so each result gets a stable pseudo path under
  ``posture/`` derived from the uid (``k8s/prod/shop/Pod/web``) — no such file exists;
* a partial or failed snapshot sets ``executionSuccessful: false`` and lists each
  collector run in trouble as a tool execution notification.
"""

from __future__ import annotations

import re
from typing import IO, Any
from urllib.parse import quote

from postureapp.export.common import (
    ResourceIndex,
    bulk,
    describe_run,
    failing,
    runs_in_trouble,
    write_records_json,
)
from postureapp.export.snapshot_json import document_score

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "postureFindingFingerprint/v1"

# GitHub reads rule properties["security-severity"] (a CVSS-like score) to label an
# alert critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9) or low (0.1-3.9). An info
# finding gets no score, so GitHub falls back to its level ("note").
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def build_sarif(document: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log (a dict) for one snapshot document."""
    resources = ResourceIndex(document)
    rules: list[dict[str, Any]] = [_rule(check) for check in document["checks"]]
    rule_index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for finding in failing(document):
        if finding["check_id"] not in rule_index:
            rule_index[finding["check_id"]] = len(rules)
            rules.append(_fallback_rule(finding))
        results.append(_result(finding, rule_index[finding["check_id"]], resources))
    snapshot = document["snapshot"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "postureapp",
                        "version": document["tool"]["version"],
                        "rules": rules,
                    }
                },
                "invocations": [_invocation(document)],
                "results": results,
                "properties": {
                    "schema": document["schema"],
                    "postureScore": document_score(document),
                    "snapshot": {
                        "id": snapshot["id"],
                        "status": snapshot["status"],
                        "startedAt": snapshot["started_at"],
                        "finishedAt": snapshot["finished_at"],
                    },
                },
            }
        ],
    }


@bulk
def write_sarif(document: dict[str, Any], out: IO[str]) -> None:
    """The SARIF log as UTF-8 JSON, one rule, result or notification a line."""
    write_records_json(
        build_sarif(document), out, frozenset({"rules", "results", "toolExecutionNotifications"})
    )


def _rule(check: dict[str, Any]) -> dict[str, Any]:
    severity = check["severity"]
    frameworks = check.get("frameworks") or {}
    tags = [tag for tag in ("security", "posture", check["view"], check["provider"]) if tag]
    tags += [f"{name} {ref}" for name, refs in sorted(frameworks.items()) for ref in refs]
    remediation = check.get("remediation") or ""
    description = check.get("description") or check["title"]
    properties: dict[str, Any] = {
        "severity": severity,
        "view": check["view"],
        "provider": check["provider"],
        "frameworks": frameworks,
        "tags": tags,
    }
    if severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    rule: dict[str, Any] = {
        "id": check["id"],
        "name": _rule_name(check["id"]),
        "shortDescription": {"text": check["title"]},
        "fullDescription": {"text": description},
        "help": {
            "text": f"{description}\n\nRemediation: {remediation}".strip(),
            "markdown": f"{description}\n\n**Remediation:** {remediation}".strip(),
        },
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": properties,
    }
    links = [ref for ref in check.get("references") or [] if ref.startswith("https://")]
    if links:
        rule["helpUri"] = links[0]
    return rule


def _fallback_rule(finding: dict[str, Any]) -> dict[str, Any]:
    """A rule for a failing check missing from the catalog (an old cache, a test)."""
    return _rule(
        {
            "id": finding["check_id"],
            "title": finding["title"],
            "view": finding["view"],
            "provider": "",
            "severity": finding["severity"],
            "remediation": finding.get("remediation", ""),
            "frameworks": finding.get("frameworks", {}),
            "description": "",
        }
    )


def _rule_name(check_id: str) -> str:
    """SARIF rule names are identifiers: ``k8s-rbac-cluster-admin`` -> ``K8sRbacClusterAdmin``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", check_id))


def _result(finding: dict[str, Any], rule_index: int, resources: ResourceIndex) -> dict[str, Any]:
    uid = finding["resource_uid"]
    message = finding["title"] + (f": {finding['detail']}" if finding["detail"] else "")
    logical = {"fullyQualifiedName": uid, "name": resources.name(uid)}
    kind = resources.kind(uid)
    logical["kind"] = kind or "resource"
    result: dict[str, Any] = {
        "ruleId": finding["check_id"],
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVEL.get(finding["severity"], "warning"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": pseudo_path(uid)}},
                "logicalLocations": [logical],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding["fingerprint"]},
        "properties": {
            "severity": finding["severity"],
            "view": finding["view"],
            "resourceUid": uid,
            "firstSeen": finding["first_seen"],
        },
    }
    if finding["waived"] and finding.get("waiver"):
        waiver = finding["waiver"]
        suppression: dict[str, Any] = {
            "kind": "external",
            "status": "accepted",
            "justification": f"{waiver['reason']} (owner: {waiver['owner']})",
        }
        extra = {k: waiver[k] for k in ("ticket", "expires_at") if waiver.get(k)}
        if extra:
            suppression["properties"] = extra
        result["suppressions"] = [suppression]
    return result


def pseudo_path(uid: str) -> str:
    """A repository-relative path standing for a resource (GitHub rejects results
    without one and rejects URI schemes such as ``k8s:`` or ``arn:``).

    ``k8s://prod/shop/Pod/web`` -> ``posture/k8s/prod/shop/Pod/web``;
    ``arn:aws:iam::123:role/x`` -> ``posture/arn/aws/iam/_/123/role/x``.
    """
    parts = _SPLIT(uid)
    if _PLAIN(uid):  # nothing quote() would change (most uids): skip it per part
        return "posture/" + "/".join(part or "_" for part in parts)
    return "posture/" + "/".join(quote(part, safe="") if part else "_" for part in parts)


_SPLIT = re.compile(r"://|[:/]").split
# Characters quote(part, safe="") leaves as they are, and the separators split off.
_PLAIN = re.compile(r"[A-Za-z0-9_.~:/-]*").fullmatch


def _invocation(document: dict[str, Any]) -> dict[str, Any]:
    snapshot = document["snapshot"]
    notifications = []
    for run in runs_in_trouble(document):
        notifications.append(
            {
                "level": "error" if run["status"] == "failed" else "warning",
                "message": {"text": describe_run(run)},
                "descriptor": {"id": "collector-run"},
                "properties": {
                    "collector": run["collector"],
                    "target": run["target"],
                    "status": run["status"],
                },
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": snapshot["status"] == "complete",
        "startTimeUtc": snapshot["started_at"],
        "properties": {"snapshotStatus": snapshot["status"]},
    }
    if snapshot["finished_at"]:
        invocation["endTimeUtc"] = snapshot["finished_at"]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
