"""NetworkPolicy semantics: which policies a namespace has and whether they deny ingress
by default."""

from __future__ import annotations

from collections import defaultdict

from postureapp.domain.kubernetes.objects import PROVIDER
from postureapp.domain.text import names_list
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import NetworkPolicyFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource


def policies_by_namespace(inv: Inventory) -> dict[tuple[str, str], list[Resource]]:
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for policy in inv.of(PROVIDER, "NetworkPolicy"):
        grouped[(policy.scope, policy.namespace)].append(policy)
    return grouped


def default_deny(policies: list[Resource]) -> tuple[bool, str]:
    """Whether these policies deny ingress by default, and why (or why not)."""
    deny = sorted(
        p.name for p in policies if facts_of(p, NetworkPolicyFacts).get("default_deny_ingress")
    )
    open_all = sorted(
        p.name
        for p in policies
        if facts_of(p, NetworkPolicyFacts).get("selects_all_pods")
        and facts_of(p, NetworkPolicyFacts).get("allows_all_ingress")
    )
    if deny and open_all:
        return False, (
            f"default-deny {', '.join(deny)} is undone by {', '.join(open_all)}, which allows "
            "all ingress to every pod"
        )
    if deny:
        return True, f"default-deny ingress by {', '.join(deny)}"
    if open_all:
        return False, f"{', '.join(open_all)} allows all ingress to every pod"
    if policies:
        return False, (
            f"no policy selects every pod with an empty ingress list "
            f"(policies: {names_list(sorted(p.name for p in policies))})"
        )
    return False, "no NetworkPolicy at all"
