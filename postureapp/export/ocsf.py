"""OCSF 1.5.0 Compliance Finding events (class_uid 2003), as JSON Lines.

Choices, and why:

* **Every finding, passes included.** A Compliance Finding is the result of evaluating a
  resource against a requirement; its ``compliance.status_id`` says Pass, Fail or
  Warning. A SIEM or data lake that only receives failures cannot tell "passed" from
  "never evaluated", cannot compute coverage per control, and never sees a failure
  clear. Unknown (data not collected) maps to Warning, which OCSF defines as "did not
  yield a result due to missing information"; error (the check raised) to Unknown.
* **JSON Lines, one event per line.** Event pipelines (Security Lake/Firehose, Splunk
  HEC, Elastic bulk, Vector, ``jq -c``) ingest newline-delimited events; a large
  snapshot streams in constant memory on both sides and files can be concatenated.
* ``status_id`` (the finding's workflow status) is Suppressed for a waived finding and
  New otherwise; our own status is kept verbatim in ``status_code``.
* AWS resources carry region and partition and the event carries the ``cloud`` profile
  (provider, region, account); Kubernetes resources carry their namespace.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import IO, Any

from postureapp.export.common import ResourceIndex, bulk, compact_encoder, no_line_breakers
from postureapp.model import parse_time

OCSF_VERSION = "1.5.0"
CLASS_UID = 2003  # Compliance Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200301: Compliance Finding: Create

SEVERITY_ID = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_CAPTION = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# compliance.status_id: 0 Unknown, 1 Pass, 2 Warning (no result: missing information), 3 Fail
COMPLIANCE_STATUS_ID = {"pass": 1, "fail": 3, "unknown": 2, "error": 0}
STATUS_NEW, STATUS_SUPPRESSED = 1, 3


@functools.lru_cache(maxsize=4096)
def _millis(moment: str | None) -> int | None:
    """OCSF ``timestamp_t``: milliseconds since the epoch (first_seen repeats a lot)."""
    parsed = parse_time(moment)
    return None if parsed is None else int(parsed.timestamp() * 1000)


def build_events(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One Compliance Finding event (a dict) per finding of the document."""
    return list(iter_events(document))


class _CheckParts:
    """What every event of one check shares, computed once per check."""

    __slots__ = ("name", "remediation", "requirements", "standards")

    def __init__(self, check: dict[str, Any], finding: dict[str, Any]) -> None:
        frameworks = finding.get("frameworks") or check.get("frameworks") or {}
        self.name = check.get("title") or finding["title"]
        self.standards = sorted(frameworks)
        self.requirements = [
            f"{name} {ref}" for name, refs in sorted(frameworks.items()) for ref in refs
        ]
        self.remediation: dict[str, Any] | None = None
        if finding.get("remediation"):
            self.remediation = {"desc": finding["remediation"]}
            refs = [ref for ref in check.get("references") or [] if ref]
            if refs:
                self.remediation["references"] = refs


def iter_events(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    resources = ResourceIndex(document)
    snapshot = document["snapshot"]
    time_ms = _millis(snapshot["finished_at"] or snapshot["started_at"])
    catalog = {check["id"]: check for check in document["checks"]}
    parts: dict[str, _CheckParts] = {}
    product = {
        "name": "postureapp",
        "vendor_name": "postureapp",
        "version": document["tool"]["version"],
    }
    suffix = f"-{snapshot['id']}"
    clouds: dict[str, dict[str, Any]] = {}
    for finding in document["findings"]:
        check_id = finding["check_id"]
        shared = parts.get(check_id)
        if shared is None:
            shared = parts[check_id] = _CheckParts(catalog.get(check_id, {}), finding)
        yield _event(finding, resources, clouds, shared, product, snapshot, suffix, time_ms)


def _event(
    finding, resources, clouds, shared, product, snapshot, suffix, time_ms
) -> dict[str, Any]:
    severity_id = SEVERITY_ID.get(finding["severity"], 0)
    waived = bool(finding["waived"])
    compliance_status = COMPLIANCE_STATUS_ID.get(finding["status"], 0)
    compliance: dict[str, Any] = {
        "status_id": compliance_status,
        "checks": [
            {"uid": finding["check_id"], "name": shared.name, "status_id": compliance_status}
        ],
    }
    if shared.standards:
        compliance["standards"] = shared.standards
        compliance["requirements"] = shared.requirements
    resource, cloud = _resource(finding["resource_uid"], resources, clouds)
    extra: dict[str, Any] = {"snapshot_id": snapshot["id"], "snapshot_status": snapshot["status"]}
    if waived and finding.get("waiver"):
        extra["waiver"] = finding["waiver"]
    if finding.get("evidence"):
        extra["evidence"] = finding["evidence"]
    event: dict[str, Any] = {
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "time": time_ms,
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTION.get(severity_id, "Unknown"),
        "status_id": STATUS_SUPPRESSED if waived else STATUS_NEW,
        "status": "Suppressed" if waived else "New",
        "status_code": finding["status"].upper(),
        "message": finding["title"],
        "metadata": {
            "version": OCSF_VERSION,
            "product": product,
            "uid": finding["fingerprint"] + suffix,
            "event_code": finding["check_id"],
        },
        "finding_info": {
            "uid": finding["fingerprint"],
            "title": finding["title"],
            "desc": finding["detail"] or finding["title"],
            "types": [finding["view"]],
            "first_seen_time": _millis(finding.get("first_seen")),
            "last_seen_time": time_ms,
        },
        "compliance": compliance,
        "resources": [resource],
        "unmapped": {"postureapp": extra},
    }
    if shared.remediation is not None:
        event["remediation"] = shared.remediation
    if cloud:
        event["cloud"] = cloud
        event["metadata"]["profiles"] = ["cloud"]
    return event


def _resource(
    uid: str, resources: ResourceIndex, clouds: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict | None]:
    """ResourceDetails for the finding's resource, and the event's cloud object (AWS),
    one cloud object per scope (``clouds``), shared by its events."""
    known = resources.get(uid)
    if known is None:  # a finding on a whole scope (a cluster, an account/region)
        return {"uid": uid}, None
    detail: dict[str, Any] = {"uid": uid, "type": known["kind"], "name": known["name"]}
    if known["namespace"]:
        detail["namespace"] = known["namespace"]
    cloud = None
    if known["provider"] == "aws":
        account, _, region = known["scope"].partition("/")
        partition = uid.split(":")[1] if uid.startswith("arn:") and uid.count(":") > 1 else "aws"
        detail["cloud_partition"] = partition
        if region and region != "global":
            detail["region"] = region
        cloud = clouds.get(known["scope"])
        if cloud is None:
            cloud = clouds[known["scope"]] = {"provider": "AWS"}
            if region and region != "global":
                cloud["region"] = region
            if account:
                cloud["account"] = {
                    "uid": account,
                    "name": account,
                    "type_id": 10,
                    "type": "AWS Account",
                }
    return detail, cloud


@bulk
def write_ocsf(document: dict[str, Any], out: IO[str]) -> None:
    """JSON Lines: one compact Compliance Finding per line, UTF-8, and no character
    inside an event that any common reader takes for a line break."""
    lines = _EventLines(document)
    write = out.write
    batch: list[str] = []
    for finding in document["findings"]:
        batch.append(lines(finding))
        if len(batch) == 1000:
            write(no_line_breakers("".join(batch)))
            batch.clear()
    write(no_line_breakers("".join(batch)))


_compact = compact_encoder((",", ":"))


def _json(value: Any) -> str:
    """Compact JSON, as ``json.dumps`` with the writer's settings gives it."""
    return encode_basestring(value) if type(value) is str else _compact(value)


@functools.lru_cache(maxsize=4096)
def _millis_json(moment: str | None) -> str:
    return _json(_millis(moment))


class _EventLines:
    """Each finding's event (``_event``) as its line of compact JSON, written as text.

    Encoding 130 MB of events for 100,000 findings was most of the writer's time, and
    most of each event is the same for every event (the class header), for every event
    of a check (name, frameworks, remediation), of a resource (ResourceDetails, cloud)
    or of a status: those pieces are encoded once and joined. The line is the text
    ``json.dumps`` gives for ``_event``'s dict, key for key in the same order (tests
    compare every line with the event, and the golden file byte for byte).
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self._resources = ResourceIndex(document)
        snapshot = document["snapshot"]
        time_ms = _millis(snapshot["finished_at"] or snapshot["started_at"])
        self._time = _json(time_ms)
        self._catalog = {check["id"]: check for check in document["checks"]}
        self._checks: dict[str, tuple[_CheckParts, str, str]] = {}
        self._compliance: dict[tuple[str, int], str] = {}
        self._places: dict[str, tuple[str, str]] = {}
        self._clouds: dict[str, dict[str, Any]] = {}
        self._states: dict[tuple[str, bool, str], str] = {}
        product = {
            "name": "postureapp",
            "vendor_name": "postureapp",
            "version": document["tool"]["version"],
        }
        self._header = (
            f'{{"category_uid":{CATEGORY_UID},"category_name":"Findings",'
            f'"class_uid":{CLASS_UID},"class_name":"Compliance Finding",'
            f'"activity_id":{ACTIVITY_CREATE},"activity_name":"Create",'
            f'"type_uid":{TYPE_UID},"type_name":"Compliance Finding: Create",'
            f'"time":{self._time},'
        )
        self._metadata = f',"metadata":{{"version":{_json(OCSF_VERSION)},"product":{_json(product)}'
        self._suffix = f"-{snapshot['id']}"
        self._unmapped = (
            f',"unmapped":{{"postureapp":{{"snapshot_id":{_json(snapshot["id"])},'
            f'"snapshot_status":{_json(snapshot["status"])}'
        )

    def _check(self, finding: dict[str, Any]) -> tuple[_CheckParts, str, str]:
        check_id = finding["check_id"]
        known = self._checks.get(check_id)
        if known is None:
            shared = _CheckParts(self._catalog.get(check_id, {}), finding)
            remediation = (
                "" if shared.remediation is None else f',"remediation":{_json(shared.remediation)}'
            )
            known = self._checks[check_id] = (shared, _json(check_id), remediation)
        return known

    def _compliance_of(self, shared: _CheckParts, check_id: str, status_id: int) -> str:
        key = (check_id, status_id)
        text = self._compliance.get(key)
        if text is None:
            compliance: dict[str, Any] = {
                "status_id": status_id,
                "checks": [{"uid": check_id, "name": shared.name, "status_id": status_id}],
            }
            if shared.standards:
                compliance["standards"] = shared.standards
                compliance["requirements"] = shared.requirements
            text = self._compliance[key] = _compact(compliance)
        return text

    def _place(self, uid: str) -> tuple[str, str]:
        """(``"resources":[...]`` member text, ``"cloud"`` member text or "")."""
        place = self._places.get(uid)
        if place is None:
            detail, cloud = _resource(uid, self._resources, self._clouds)
            place = self._places[uid] = (
                f',"resources":[{_compact(detail)}]',
                f',"cloud":{_compact(cloud)}' if cloud else "",
            )
        return place

    def _state(self, severity: str, waived: bool, status: str) -> str:
        key = (severity, waived, status)
        text = self._states.get(key)
        if text is None:
            severity_id = SEVERITY_ID.get(severity, 0)
            text = self._states[key] = (
                f'"severity_id":{severity_id},'
                f'"severity":{_json(SEVERITY_CAPTION.get(severity_id, "Unknown"))},'
                f'"status_id":{STATUS_SUPPRESSED if waived else STATUS_NEW},'
                f'"status":{_json("Suppressed" if waived else "New")},'
                f'"status_code":{_json(status.upper())},'
            )
        return text

    def __call__(self, finding: dict[str, Any]) -> str:
        shared, check_id, remediation = self._check(finding)
        waived = bool(finding["waived"])
        status = finding["status"]
        resource, cloud = self._place(finding["resource_uid"])
        title = _json(finding["title"])
        fingerprint = finding["fingerprint"]
        extra = ""
        if waived and finding.get("waiver"):
            extra = f',"waiver":{_json(finding["waiver"])}'
        if finding.get("evidence"):
            extra += f',"evidence":{_json(finding["evidence"])}'
        compliance = self._compliance_of(
            shared, finding["check_id"], COMPLIANCE_STATUS_ID.get(status, 0)
        )
        return "".join(
            (
                self._header,
                self._state(finding["severity"], waived, status),
                '"message":',
                title,
                self._metadata,
                ',"uid":',
                _json(fingerprint + self._suffix),
                ',"event_code":',
                check_id,
                ',"profiles":["cloud"]}' if cloud else "}",
                ',"finding_info":{"uid":',
                _json(fingerprint),
                ',"title":',
                title,
                ',"desc":',
                _json(finding["detail"] or finding["title"]),
                ',"types":[',
                _json(finding["view"]),
                '],"first_seen_time":',
                _millis_json(finding.get("first_seen")),
                ',"last_seen_time":',
                self._time,
                '},"compliance":',
                compliance,
                resource,
                self._unmapped,
                extra,
                "}}",
                remediation,
                cloud,
                "}\n",
            )
        )
