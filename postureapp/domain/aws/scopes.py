"""AWS scopes: accounts and regions of resources, and where an account-level finding
hangs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from postureapp.inventory import Inventory
from postureapp.model import Resource

PROVIDER = "aws"


def account_of(resource: Resource) -> str:
    return resource.scope.split("/", 1)[0]


def region_of(resource: Resource) -> str:
    parts = resource.scope.split("/")
    return parts[1] if len(parts) > 1 else ""


def by_account(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        grouped[account_of(resource)].append(resource)
    return grouped


def by_region(resources: Iterable[Resource]) -> dict[tuple[str, str], list[Resource]]:
    """Resources keyed by (account, region), the key of an ``AWSRegion`` marker."""
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in resources:
        grouped[(account_of(resource), region_of(resource))].append(resource)
    return grouped


def regions(inv: Inventory) -> list[Resource]:
    """The ``AWSRegion`` markers: one per region the collector read."""
    return sorted(inv.of(PROVIDER, "AWSRegion"), key=lambda r: r.scope)


def account_anchor(inv: Inventory, account: str) -> Resource | str:
    """What an account-level finding hangs on: the ``IAMAccount`` resource, or (IAM not
    collected) its uid, ``arn:{partition}:iam::{account}:root``, so the fingerprint is
    the same either way."""
    for resource in inv.of(PROVIDER, "IAMAccount"):
        if account_of(resource) == account:
            return resource
    partition = "aws"
    for resource in inv:
        mine = resource.provider == PROVIDER and account_of(resource) == account
        if mine and resource.uid.startswith("arn:"):
            partition = resource.uid.split(":", 2)[1] or "aws"
            break
    return f"arn:{partition}:iam::{account}:root"
