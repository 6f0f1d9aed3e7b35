"""Facts of an AWS organisation, as ``postureapp.collectors.aws.organizations`` records
them in the management account's ``<id>/global`` scope (labels for the fleet's views)."""

from __future__ import annotations

from typing import TypedDict

from postureapp.facts.base import register

PROVIDER = "aws"


class AWSOrganizationFacts(TypedDict):
    id: str
    management_account_id: str
    feature_set: str


class AWSOrganizationalUnitFacts(TypedDict):
    id: str
    path: str  # "Root/Workloads/Prod"
    parent_id: str


class AWSAccountFacts(TypedDict):
    account_id: str
    name: str
    status: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE
    ou_id: str | None  # None when the OU tree could not be read
    ou_path: str | None
    management: bool
    collected: bool  # a target of this poll
    collected_as: str  # "caller" (the source credentials' own), "role", or ""
    not_collected: str  # why not, when not: "status SUSPENDED", "in another shard..."


register(PROVIDER, "AWSOrganization", AWSOrganizationFacts)
register(PROVIDER, "AWSOrganizationalUnit", AWSOrganizationalUnitFacts)
register(PROVIDER, "AWSAccount", AWSAccountFacts)
