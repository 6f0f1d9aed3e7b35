"""The frameworks checks and controls map to, and the rules every mapping keeps.

This table is the one place a framework is named. A check or a control declares its
references as ``frameworks={name: "ref"}`` (or a list of refs), with names from
:data:`FRAMEWORKS`; the registry validates the mapping when the check registers, so a
misspelt name or a malformed reference fails at import, not in an auditor's export.

The names are a public contract: SARIF rule properties and tags, OCSF compliance
standards and the JSON ``frameworks`` fields print them as they are written here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ISO = "ISO 27001:2022"
SOC2 = "SOC 2"
CIS_KUBERNETES = "CIS Kubernetes"
CIS_AWS = "CIS AWS"
AWS_FSBP = "AWS FSBP"


@dataclass(frozen=True, slots=True)
class Framework:
    """One framework: its name as exports print it, the edition references are taken
    from, and what a reference looks like."""

    name: str
    edition: str
    reference: re.Pattern[str]


FRAMEWORKS: dict[str, Framework] = {
    framework.name: framework
    for framework in (
        Framework(ISO, "ISO/IEC 27001:2022 Annex A", re.compile(r"A\.[5-8]\.\d{1,2}")),
        Framework(
            SOC2,
            "AICPA Trust Services Criteria (2017, points of focus revised 2022)",
            re.compile(r"CC[1-9]\.\d|A1\.\d|C1\.\d|PI1\.\d|P\d\.\d"),
        ),
        Framework(CIS_KUBERNETES, "CIS Kubernetes Benchmark v1.9", re.compile(r"\d+(\.\d+){1,2}")),
        Framework(CIS_AWS, "CIS AWS Foundations Benchmark v3.0", re.compile(r"\d+(\.\d+){1,2}")),
        Framework(
            AWS_FSBP,
            "AWS Foundational Security Best Practices (Security Hub)",
            re.compile(r"[A-Za-z0-9]+\.\d+"),
        ),
    )
}

# Every check and every control answers an ISO 27001 and a SOC 2 auditor.
REQUIRED = (ISO, SOC2)

# The benchmarks of a plane: a check of that plane cites one of them, or says with
# ``no_benchmark="why"`` that none of their recommendations is about it. Cross-plane
# (paths) and probe checks have no benchmark of their own.
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "kubernetes": (CIS_KUBERNETES,),
    "aws": (CIS_AWS, AWS_FSBP),
}

Refs = str | Sequence[str]


class FrameworkError(ValueError):
    """A framework mapping that breaks the rules of this module."""


def mapping(owner: str, declared: Mapping[str, Refs] | None) -> dict[str, list[str]]:
    """``declared`` as ``{name: [refs]}`` in its own order, every name known and every
    reference well formed; ``owner`` ("check x") names the culprit in the error."""
    result: dict[str, list[str]] = {}
    for name, refs in (declared or {}).items():
        framework = FRAMEWORKS.get(name)
        if framework is None:
            known = ", ".join(repr(n) for n in FRAMEWORKS)
            raise FrameworkError(f"{owner}: unknown framework {name!r} (known: {known})")
        listed = [refs] if isinstance(refs, str) else list(refs)
        if not listed:
            raise FrameworkError(f"{owner}: {name} lists no reference; leave it out instead")
        for ref in listed:
            if not isinstance(ref, str) or not framework.reference.fullmatch(ref):
                raise FrameworkError(
                    f"{owner}: {name} reference {ref!r} is malformed "
                    f"({framework.edition} references match {framework.reference.pattern})"
                )
        if len(set(listed)) != len(listed):
            raise FrameworkError(f"{owner}: {name} lists a reference twice")
        result[name] = listed
    return result


def require_complete(
    owner: str, frameworks: Mapping[str, list[str]], provider: str | None, no_benchmark: str | None
) -> None:
    """The shipped catalog's rules: ISO 27001 and SOC 2 always; for a check
    (``provider`` set) of a plane with benchmarks, a benchmark reference or a reason."""
    missing = [name for name in REQUIRED if name not in frameworks]
    if missing:
        raise FrameworkError(f"{owner}: maps to no {' and no '.join(missing)} (required)")
    benchmarks = BENCHMARKS.get(provider or "", ())
    cited = [name for name in benchmarks if name in frameworks]
    reason = (no_benchmark or "").strip()
    if no_benchmark is not None and not reason:
        raise FrameworkError(f"{owner}: no_benchmark needs a reason")
    if not benchmarks:
        if no_benchmark is not None:
            raise FrameworkError(f"{owner}: {provider} checks have no benchmark; drop no_benchmark")
        return
    if cited and reason:
        raise FrameworkError(f"{owner}: cites {', '.join(cited)} but also says no_benchmark")
    if not cited and not reason:
        raise FrameworkError(
            f"{owner}: cite {' or '.join(benchmarks)}, or say why none applies with "
            'no_benchmark="..."'
        )
