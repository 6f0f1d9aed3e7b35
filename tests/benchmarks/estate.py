"""A large synthetic estate: resources and findings shaped like a real multi-team one.

Deterministic for a given seed, so benchmarks and growth tests compare like with like.
``mutate`` changes a small share of it, as one poll interval would.
"""

from __future__ import annotations

import random
import zlib

from postureapp.model import Finding, Resource, Severity, Status, View, k8s_uid

_KINDS = [
    ("kubernetes", "Pod", View.IDENTITIES),
    ("kubernetes", "ServiceAccount", View.IDENTITIES),
    ("kubernetes", "RoleBinding", View.IDENTITIES),
    ("kubernetes", "Service", View.ENDPOINTS),
    ("kubernetes", "Secret", View.SECRETS),
    ("aws", "IAMRole", View.IDENTITIES),
    ("aws", "SecurityGroup", View.ENDPOINTS),
    ("aws", "SecretsManagerSecret", View.SECRETS),
]
_SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]


def generate_resources(count: int, seed: int = 7) -> list[Resource]:
    rng = random.Random(seed)
    resources = []
    for index in range(count):
        provider, kind, _ = _KINDS[index % len(_KINDS)]
        team = f"team-{index % 40}"
        if provider == "kubernetes":
            namespace = f"{team}-{'prod' if index % 3 else 'staging'}"
            name = f"{kind.lower()}-{index}"
            uid = k8s_uid("prod-eu", kind, name, namespace)
            scope = "prod-eu"
        else:
            namespace = ""
            name = f"{team}-{kind.lower()}-{index}"
            uid = f"arn:aws:iam::123456789012:{kind.lower()}/{name}"
            scope = "123456789012/eu-west-1"
        attrs = {
            "labels": {"app": name, "team": team, "tier": rng.choice(["web", "api", "db"])},
            "service_account": f"sa-{index % 3000}",
            "ports": [rng.choice([80, 443, 8080, 9090])],
            "image": f"registry.example.com/{team}/{name}:1.{index % 17}.0",
            "privileged": index % 97 == 0,
        }
        resources.append(
            Resource(
                uid=uid,
                provider=provider,
                scope=scope,
                kind=kind,
                name=name,
                namespace=namespace,
                attrs=attrs,
                created_at="2026-01-01T00:00:00Z",
            )
        )
    return resources


def generate_findings(resources: list[Resource], per_resource: int = 2) -> list[Finding]:
    findings = []
    views = {kind: view for _, kind, view in _KINDS}
    for resource in resources:
        # Keyed on the uid, not the position, so a deleted neighbour changes nothing.
        index = zlib.crc32(resource.uid.encode())
        view = views[resource.kind]
        for number in range(per_resource):
            failing = (index + number) % 4 == 0
            findings.append(
                Finding(
                    check_id=f"bench-check-{number}-{resource.kind.lower()}",
                    resource_uid=resource.uid,
                    status=Status.FAIL if failing else Status.PASS,
                    severity=_SEVERITIES[(index + number) % len(_SEVERITIES)],
                    view=view,
                    title=f"{resource.kind} check {number}",
                    detail=f"{resource.name} in {resource.namespace or resource.scope}",
                    evidence={"ports": resource.attrs["ports"], "check": number},
                )
            )
    return findings


def mutate(resources: list[Resource], share: float = 0.05, seed: int = 11) -> list[Resource]:
    """A copy where ``share`` of the resources changed an attribute and a few vanished."""
    rng = random.Random(seed)
    result = []
    for resource in resources:
        roll = rng.random()
        if roll < share / 5:
            continue  # deleted
        if roll < share:
            attrs = dict(resource.attrs, image=resource.attrs["image"] + "-patched")
            resource = Resource(**{**resource.to_dict(), "attrs": attrs})
        result.append(resource)
    return result
