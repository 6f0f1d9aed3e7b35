"""The check and control catalog.

A check is a pure function registered with its metadata::

    @check(
        id="k8s-rbac-cluster-admin",
        title="Subject bound to cluster-admin",
        view=View.IDENTITIES,
        severity=Severity.CRITICAL,
        provider="kubernetes",
        requires=("ClusterRoleBinding",),
        remediation="Bind a namespaced role with only the verbs the workload needs.",
        frameworks={"CIS Kubernetes": ["5.1.1"], "ISO 27001:2022": ["A.8.2"]},
    )
    def cluster_admin(inv):
        for binding in inv.of("kubernetes", "ClusterRoleBinding"):
            yield Result(binding, Status.FAIL, detail="...")

The id is a public contract (waivers, SARIF rule ids and CI gates depend on it), so a
duplicate id fails at import. ``requires`` names the kinds the check reads: in a scope
where one of them could not be collected the engine does not run the check there and
reports *unknown* instead, so missing data can never look like a pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from postureapp.inventory import Inventory
from postureapp.model import Control, Finding, Resource, Severity, Status, View

_ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


@dataclass(slots=True)
class Result:
    """What a check says about one resource; the registry adds the metadata."""

    resource: Resource | str  # the resource, or its uid
    status: Status
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # overrides the check's default, e.g. worse when public
    title: str | None = None  # overrides the check's title, e.g. to name the port


CheckFunction = Callable[[Inventory], Iterable[Result]]


@dataclass(frozen=True, slots=True)
class CheckMeta:
    id: str
    title: str
    view: View
    severity: Severity
    provider: str
    remediation: str
    frameworks: dict[str, list[str]]
    references: tuple[str, ...]
    requires: tuple[str, ...]
    description: str
    function: CheckFunction

    def finding(self, result: Result) -> Finding:
        uid = result.resource if isinstance(result.resource, str) else result.resource.uid
        return Finding(
            check_id=self.id,
            resource_uid=uid,
            status=result.status,
            severity=result.severity or self.severity,
            view=self.view,
            title=result.title or self.title,
            detail=result.detail,
            evidence=result.evidence,
            remediation=self.remediation,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "view": self.view.value,
            "severity": self.severity.value,
            "provider": self.provider,
            "remediation": self.remediation,
            "frameworks": self.frameworks,
            "references": list(self.references),
            "requires": list(self.requires),
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class ControlMeta:
    id: str
    title: str
    frameworks: dict[str, list[str]]
    checks: tuple[str, ...]
    description: str = ""
    needs_attestation: bool = False

    def blank(self) -> Control:
        return Control(
            id=self.id,
            title=self.title,
            frameworks=self.frameworks,
            checks=list(self.checks),
            description=self.description,
            needs_attestation=self.needs_attestation,
        )


class DuplicateCheckError(RuntimeError):
    pass


class Registry:
    """Holds checks and controls. The package-wide one is :data:`REGISTRY`; tests build
    their own so they never depend on the shipped catalog."""

    def __init__(self) -> None:
        self.checks: dict[str, CheckMeta] = {}
        self.controls: dict[str, ControlMeta] = {}

    def check(
        self,
        *,
        id: str,
        title: str,
        view: View,
        severity: Severity,
        provider: str,
        remediation: str,
        frameworks: dict[str, list[str]] | None = None,
        references: Iterable[str] = (),
        requires: Iterable[str] = (),
        description: str = "",
    ) -> Callable[[CheckFunction], CheckFunction]:
        if not _ID_PATTERN.match(id):
            raise ValueError(f"check id {id!r} must be lower-case words joined by '-'")
        if not remediation.strip():
            raise ValueError(f"check {id} needs a remediation")

        def register(function: CheckFunction) -> CheckFunction:
            if id in self.checks:
                raise DuplicateCheckError(
                    f"check id {id!r} is registered twice "
                    f"({self.checks[id].function.__module__} and {function.__module__})"
                )
            self.checks[id] = CheckMeta(
                id=id,
                title=title,
                view=View(view),
                severity=Severity(severity),
                provider=provider,
                remediation=remediation.strip(),
                frameworks=dict(frameworks or {}),
                references=tuple(references),
                requires=tuple(requires),
                description=(description or (function.__doc__ or "")).strip(),
                function=function,
            )
            return function

        return register

    def control(
        self,
        *,
        id: str,
        title: str,
        frameworks: dict[str, list[str]],
        checks: Iterable[str] = (),
        description: str = "",
        needs_attestation: bool = False,
    ) -> ControlMeta:
        if id in self.controls:
            raise DuplicateCheckError(f"control id {id!r} is registered twice")
        meta = ControlMeta(
            id=id,
            title=title,
            frameworks=frameworks,
            checks=tuple(checks),
            description=description,
            needs_attestation=needs_attestation,
        )
        self.controls[id] = meta
        return meta

    def validate(self) -> list[str]:
        """Problems in the catalog: controls citing checks that do not exist."""
        problems = []
        for control in self.controls.values():
            for check_id in control.checks:
                if check_id not in self.checks:
                    problems.append(f"control {control.id} cites unknown check {check_id}")
        return problems


REGISTRY = Registry()
check = REGISTRY.check
control = REGISTRY.control
