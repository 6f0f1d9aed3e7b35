"""The records every layer shares: resources, findings, controls, snapshots.

Everything here is plain data. Collectors produce :class:`Resource` records and one
:class:`CollectorRun` per target; checks turn resources into :class:`Finding` records;
the store keeps them per :class:`Snapshot`. Nothing in this module does I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Re-exported: the records and most of their readers use these together.
from postureapp.dates import isoformat as isoformat
from postureapp.dates import parse_time as parse_time
from postureapp.dates import utcnow as utcnow


class Status(StrEnum):
    """Outcome of one check on one resource."""

    FAIL = "fail"
    PASS = "pass"
    UNKNOWN = "unknown"  # the data needed was not collected; never read as pass
    ERROR = "error"  # the check itself raised


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 ... info 0, so ``>=`` reads as "at least"."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (choose one of: {choices})") from None


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


# By value ("high" -> 3), for rows read back from the cache or an export.
SEVERITY_RANK: dict[str, int] = {severity.value: rank for severity, rank in _SEVERITY_RANK.items()}


class View(StrEnum):
    IDENTITIES = "identities"
    ENDPOINTS = "endpoints"
    SECRETS = "secrets"
    GOVERNANCE = "governance"


class Provider(StrEnum):
    KUBERNETES = "kubernetes"
    AWS = "aws"
    PROBE = "probe"


# ``CollectorRun.unknown`` keys: a kind, or ``Kind@part`` when only one part of the run's
# scope could not be read (an AWS region: "SecurityGroup@ap-east-1"), so a denial in one
# region leaves the others judged.
UNKNOWN_WITHIN = "@"


def unknown_key(kind: str, within: str | None = None) -> str:
    return f"{kind}{UNKNOWN_WITHIN}{within}" if within else kind


def split_unknown_key(key: str) -> tuple[str, str | None]:
    kind, _, within = key.partition(UNKNOWN_WITHIN)
    return kind, within or None


class KindRead(StrEnum):
    """How a collector fared with one kind, besides "unreadable" (``CollectorRun.unknown``)."""

    READ = "read"  # listed: the items are what exists, an empty list included
    NOT_SERVED = "not-served"  # the cluster or account does not serve this API at all


class RunStatus(StrEnum):
    """How one collector fared on one target."""

    OK = "ok"
    PARTIAL = "partial"  # some kinds could not be read; they are listed in ``unknown``
    FAILED = "failed"


class SnapshotStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class ControlStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PARTIAL = "partial"
    UNKNOWN = "unknown"


# One encoder for the whole process: json.dumps() builds a new one per call, which costs a
# quarter of the time on the tens of thousands of small documents a poll writes.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def canonical_json(value: Any) -> str:
    """Stable JSON: the same data always gives the same bytes (hashes depend on it)."""
    return _CANONICAL.encode(value)


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


_K8S_NAME_WITHOUT_SLASH = re.compile(r"(.+)/([^/]+)/([A-Za-z][A-Za-z0-9]*)/([^/]+)")
_K8S_NAME_WITH_SLASH = re.compile(r"(.+?)/([^/]+)/([A-Za-z][A-Za-z0-9]*)/(.+)")


def k8s_uid(cluster: str, kind: str, name: str, namespace: str | None = None) -> str:
    """The stable uid of a Kubernetes object; cluster-scoped objects use ``_``."""
    return f"k8s://{cluster}/{namespace or '_'}/{kind}/{name}"


def split_k8s_uid(uid: str) -> tuple[str, str, str, str] | None:
    """(cluster, namespace or "", kind, name) of a :func:`k8s_uid`, else None.

    A cluster (a kube context's name) may hold a "/", as EKS's ``arn:aws:eks:...:cluster/prod``
    does, and so may the name of the cluster's own object, which is the cluster's name. A
    namespace never does and a kind is an identifier, so a uid reads from the right when
    the name has no "/", else from the left.
    """
    if not uid.startswith("k8s://"):
        return None
    rest = uid[len("k8s://") :]
    found = _K8S_NAME_WITHOUT_SLASH.fullmatch(rest) or _K8S_NAME_WITH_SLASH.fullmatch(rest)
    if found is None:
        return None
    cluster, namespace, kind, name = found.groups()
    return cluster, "" if namespace == "_" else namespace, kind, name


@dataclass(slots=True)
class Resource:
    """One thing a collector saw. ``attrs`` is normalised JSON and never holds a secret value."""

    uid: str
    provider: str
    scope: str  # the cluster, or "<account>/<region>" ("<account>/global" for IAM)
    kind: str
    name: str
    namespace: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None  # when the resource itself was created, if the source says
    # A version the source bumps on every change of the object (Kubernetes'
    # resourceVersion), qualified by the normaliser that read it. Equal versions mean
    # equal attrs, so the store skips re-serialising an unchanged object; it is not part
    # of the content and never shown.
    source_version: str | None = field(default=None, compare=False)

    def content_hash(self, attrs_json: str | None = None) -> str:
        """Hash of everything but the uid; pass ``attrs_json`` when already serialised
        with :func:`canonical_json` (the store does, to serialise only once)."""
        return _digest(
            self.provider,
            self.scope,
            self.kind,
            self.name,
            self.namespace,
            self.created_at or "",
            attrs_json if attrs_json is not None else canonical_json(self.attrs),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["source_version"]
        return data


def fingerprint(check_id: str, resource_uid: str) -> str:
    """Stable identity of a finding across snapshots: waivers, SARIF and CI gates use it."""
    return _digest(check_id, resource_uid)


@dataclass(slots=True)
class Finding:
    check_id: str
    resource_uid: str
    status: Status
    severity: Severity
    view: View
    title: str
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""

    # Computed once: waiver matching, the store and the diff all key on it.
    _fingerprint: str = field(default="", init=False, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        if not self._fingerprint:
            self._fingerprint = fingerprint(self.check_id, self.resource_uid)
        return self._fingerprint

    def content_hash(self, evidence_json: str | None = None) -> str:
        """What makes two sightings of the same finding "the same"; status and severity
        are compared separately by the diff, so they are left out."""
        if evidence_json is None:
            evidence_json = canonical_json(self.evidence)
        return _digest(self.title, self.detail, evidence_json)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["_fingerprint"]
        data["fingerprint"] = self.fingerprint
        return data


@dataclass(slots=True)
class CollectorRun:
    """How one collector fared on one target during one poll."""

    collector: str
    target: str
    status: RunStatus
    scope: str = ""  # the scope the target resolved to, when the collector got that far
    error: str = ""
    items: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    # kinds (or calls) whose data could not be read, with the reason, e.g.
    # {"Secret": "secrets is forbidden: list denied"}
    unknown: dict[str, str] = field(default_factory=dict)
    # the plane whose data this run read; defaults to the collector's own provider
    # (an offline run reads kubernetes or aws data)
    provider: str = ""
    # What the run saw of each kind it looked for: "read" (an answer, possibly empty) or
    # "not-served" (the API or CRD does not exist there: the kind's absence is a fact).
    # A kind it could not read is in ``unknown`` with the reason instead.
    kinds: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Snapshot:
    id: int
    started_at: str
    finished_at: str | None
    status: SnapshotStatus
    runs: list[CollectorRun] = field(default_factory=list)
    resource_count: int = 0
    finding_count: int = 0


@dataclass(slots=True)
class Attestation:
    """A person vouching for a control no collector can see (a restore test, say)."""

    control_id: str
    by: str
    at: str
    expires_at: str | None = None
    note: str = ""
    id: int | None = None

    def is_active(self, now: datetime | None = None) -> bool:
        expires = parse_time(self.expires_at)
        return expires is None or expires > (now or utcnow())


@dataclass(slots=True)
class Control:
    """A governance control evidenced by checks (and possibly a manual attestation)."""

    id: str
    title: str
    frameworks: dict[str, list[str]]
    checks: list[str]
    description: str = ""
    needs_attestation: bool = False
    status: ControlStatus = ControlStatus.UNKNOWN
    coverage: float | None = None  # share of evidencing findings that pass
    evidence: dict[str, dict[str, int]] = field(default_factory=dict)  # check_id -> status counts
    attestation: Attestation | None = None


@dataclass(slots=True)
class Waiver:
    """An accepted risk: matches a finding by fingerprint, or by check id and a resource glob."""

    reason: str
    owner: str
    fingerprint: str | None = None
    check_id: str | None = None
    resource_glob: str | None = None
    ticket: str = ""
    created_at: str = ""
    expires_at: str | None = None
    id: int | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        expires = parse_time(self.expires_at)
        return expires is not None and expires <= (now or utcnow())

    def describe_selector(self) -> str:
        if self.fingerprint:
            return f"fingerprint {self.fingerprint}"
        return f"check {self.check_id} on {self.resource_glob or '*'}"


@dataclass(slots=True)
class Target:
    """Where a collector looks: a kube context, an AWS profile and region, an offline path."""

    provider: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.name}"
