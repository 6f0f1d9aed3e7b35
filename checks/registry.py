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
        frameworks={"CIS Kubernetes": "5.1.1", "ISO 27001:2022": "A.8.2", "SOC 2": "CC6.1"},
        controls=("least-privilege",),
    )
    def cluster_admin(inv):
        for binding in inv.of("kubernetes", "ClusterRoleBinding"):
            yield Result(binding, Status.FAIL, detail="...")

The id is a public contract (waivers, SARIF rule ids and CI gates depend on it), so a
duplicate id fails at import. ``requires`` names the kinds the check reads: in a scope
where one of them could not be collected the engine does not run the check there and
reports *unknown* instead, so missing data can never look like a pass.

``frameworks`` names frameworks of :data:`~.frameworks.FRAMEWORKS` only; in the shipped
catalog (``Registry(strict=True)``) every check maps to ISO 27001 and SOC 2, and a
Kubernetes or AWS check cites its plane's benchmark or says why none applies
(``no_benchmark="..."``). ``controls`` names the governance controls the check evidences:
a control's list of checks is derived from them, never kept by hand. CONTRIBUTING.md
("Add a check") walks through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from postureapp.checks.frameworks import Refs, mapping, require_complete
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
    controls: tuple[str, ...] = ()  # the governance controls it evidences
    no_benchmark: str | None = None  # why no benchmark of its plane is about it

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
    checks: tuple[str, ...]  # in a registry: the checks declaring it, in catalog order
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
    their own so they never depend on the shipped catalog.

    ``strict`` adds the shipped catalog's completeness rules to the checks every registry
    makes (known framework names, well-formed references, ids, remediation): ISO 27001
    and SOC 2 on every check and control, and a benchmark reference or a reason on every
    Kubernetes and AWS check."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.checks: dict[str, CheckMeta] = {}
        self._controls: dict[str, ControlMeta] = {}
        self._derived: dict[str, ControlMeta] | None = None
        self._derived_from = (0, 0)

    @property
    def controls(self) -> dict[str, ControlMeta]:
        """The controls, each with the checks that declare it, in catalog order."""
        # Some tests fill ``checks`` directly: a change in size also means "derive again".
        if self._derived is None or self._derived_from != (len(self.checks), len(self._controls)):
            self._derived_from = (len(self.checks), len(self._controls))
            cited: dict[str, list[str]] = {cid: list(c.checks) for cid, c in self._controls.items()}
            for meta in self.checks.values():
                for control_id in meta.controls:
                    listed = cited.setdefault(control_id, [])
                    if meta.id not in listed:
                        listed.append(meta.id)
            self._derived = {
                control_id: replace(meta, checks=tuple(cited[control_id]))
                for control_id, meta in self._controls.items()
            }
        return self._derived

    def check(
        self,
        *,
        id: str,
        title: str,
        view: View,
        severity: Severity,
        provider: str,
        remediation: str,
        frameworks: Mapping[str, Refs] | None = None,
        controls: Iterable[str] = (),
        no_benchmark: str | None = None,
        references: Iterable[str] = (),
        requires: Iterable[str] = (),
        description: str = "",
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Register the decorated function as check ``id``; see the module docstring."""
        if not _ID_PATTERN.match(id):
            raise ValueError(f"check id {id!r} must be lower-case words joined by '-'")
        if not remediation.strip():
            raise ValueError(f"check {id} needs a remediation")
        mapped = mapping(f"check {id}", frameworks)
        if self.strict:
            require_complete(f"check {id}", mapped, provider, no_benchmark)
        evidenced = tuple(controls)
        if isinstance(controls, str) or len(set(evidenced)) != len(evidenced):
            raise ValueError(f"check {id}: controls must be a tuple of distinct control ids")

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
                frameworks=mapped,
                references=tuple(references),
                requires=tuple(requires),
                description=(description or (function.__doc__ or "")).strip(),
                function=function,
                controls=evidenced,
                no_benchmark=no_benchmark,
            )
            self._derived = None
            return function

        return register

    def control(
        self,
        *,
        id: str,
        title: str,
        frameworks: Mapping[str, Refs],
        description: str = "",
        needs_attestation: bool = False,
        checks: Iterable[str] = (),
    ) -> ControlMeta:
        """Define control ``id``; the checks that evidence it name it in ``controls``.

        ``checks`` lists evidence from the control's side instead: small test catalogs
        use it; the shipped (strict) catalog refuses it, so its lists have one source."""
        if id in self._controls:
            raise DuplicateCheckError(f"control id {id!r} is registered twice")
        mapped = mapping(f"control {id}", frameworks)
        listed = tuple(checks)
        if self.strict:
            require_complete(f"control {id}", mapped, None, None)
            if listed:
                raise ValueError(
                    f"control {id}: name it in each evidencing check's controls=(...) "
                    "instead of listing checks here"
                )
        meta = ControlMeta(
            id=id,
            title=title,
            frameworks=mapped,
            checks=listed,
            description=description,
            needs_attestation=needs_attestation,
        )
        self._controls[id] = meta
        self._derived = None
        return meta

    def validate(self) -> list[str]:
        """Problems in the catalog: checks citing controls that do not exist, controls
        with neither evidence nor an attestation to rest on."""
        problems = [
            f"control {control.id} cites unknown check {check_id}"
            for control in self._controls.values()
            for check_id in control.checks
            if check_id not in self.checks
        ]
        problems += [
            f"check {meta.id} cites unknown control {control_id}"
            for meta in self.checks.values()
            for control_id in meta.controls
            if control_id not in self._controls
        ]
        problems += [
            f"control {control.id} has no evidencing check and needs no attestation"
            for control in self.controls.values()
            if not control.checks and not control.needs_attestation
        ]
        return problems


REGISTRY = Registry(strict=True)
check = REGISTRY.check
control = REGISTRY.control
