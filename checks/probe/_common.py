"""Helpers shared by the probe checks: the probes of an inventory, the evidence that
names the exposing resources, and *unknown* for endpoints not seen."""

from __future__ import annotations

from typing import Any

from postureapp.checks.registry import Result
from postureapp.inventory import Inventory
from postureapp.model import Resource, Status

ADMIN_PATHS = ("/admin", "/console", "/actuator")
DEBUG_PATHS = ("/actuator/env", "/debug/pprof/", "/server-status", "/.env", "/metrics")
KUBE_API_PATH = "/api/v1/namespaces"
OLD_PROTOCOLS = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"})
KIND = "EndpointProbe"
REQUIRES = (KIND,)
EXPOSURE = {"ISO 27001:2022": ["A.8.20", "A.8.9"], "SOC 2": ["CC6.6"]}
CRYPTO = {"ISO 27001:2022": ["A.8.24", "A.8.20"], "SOC 2": ["CC6.7"]}
OWASP_MISCONFIG = "https://owasp.org/Top10/A05_2021-Security_Misconfiguration/"


def probes_of(inv: Inventory) -> list[Resource]:
    return inv.of("probe", KIND)


def publishers(inv: Inventory, probe: Resource) -> list[str]:
    """The exposing resources, readable: "Service shop/storefront" (uid when unknown)."""
    names = []
    for uid in probe.attrs.get("exposed_by") or []:
        resource = inv.get(uid)
        if resource is None:
            names.append(uid)
        elif resource.namespace:
            names.append(f"{resource.kind} {resource.namespace}/{resource.name}")
        else:
            names.append(f"{resource.kind} {resource.name}")
    return names


def probe_evidence(inv: Inventory, probe: Resource, **extra: Any) -> dict[str, Any]:
    return {
        "url": probe.attrs.get("url"),
        "exposed_by": list(probe.attrs.get("exposed_by") or []),
        "published_by": publishers(inv, probe) or ["--probe-url"],
        **extra,
    }


def published_by(inv: Inventory, probe: Resource) -> str:
    names = publishers(inv, probe)
    return f" (published by {', '.join(names)})" if names else ""


def not_seen(inv: Inventory, probe: Resource) -> Result | None:
    """Unknown when the endpoint was not probed, its probe did not finish, or it did
    not answer."""
    attrs = probe.attrs
    if attrs.get("skipped"):
        reason = f"not probed: {attrs['skipped']}"
    elif attrs.get("reachable") is None:
        why = attrs.get("error") or attrs.get("incomplete") or "no result recorded"
        reason = f"probe did not finish: {why}"
    elif not attrs.get("reachable"):
        reason = f"no answer: {attrs.get('error') or 'unreachable'}"
    else:
        return None
    return Result(probe, Status.UNKNOWN, detail=reason, evidence=probe_evidence(inv, probe))


def path_verdict(inv: Inventory, probe: Resource, paths: tuple[str, ...], what: str) -> Result:
    attrs = probe.attrs
    seen = attrs.get("paths") or {}
    answers = {path: seen.get(path) for path in paths}
    open_paths = [path for path, status in answers.items() if status == 200]
    evidence = probe_evidence(inv, probe, paths=answers, catch_all=attrs.get("catch_all"))
    if open_paths and attrs.get("catch_all"):
        return Result(
            probe,
            Status.UNKNOWN,
            detail=f"{attrs['url']} answers 200 to any path, even a random one, so a 200 on "
            f"{', '.join(open_paths)} proves nothing{published_by(inv, probe)}",
            evidence=evidence,
        )
    if open_paths:
        return Result(
            probe,
            Status.FAIL,
            detail=f"{attrs['url']} answers 200 without credentials on "
            f"{', '.join(open_paths)}: {what}{published_by(inv, probe)}",
            evidence=evidence,
        )
    missing = [path for path, status in answers.items() if status is None]
    if missing or attrs.get("incomplete"):
        return Result(
            probe,
            Status.UNKNOWN,
            detail=f"no answer on {', '.join(missing) or 'some paths'}: "
            f"{attrs.get('incomplete') or 'timed out or refused'}",
            evidence=evidence,
        )
    return Result(
        probe,
        Status.PASS,
        detail=f"{attrs['url']}: none of {', '.join(paths)} answers 200 without credentials",
        evidence=evidence,
    )
