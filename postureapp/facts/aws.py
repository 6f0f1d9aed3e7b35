"""Facts of the AWS kinds, as the AWS collector and the offline loader write them."""

from __future__ import annotations

# typing_extensions: pydantic (the conformance tests) validates TypedDicts only from it
# before Python 3.12.
from typing_extensions import TypedDict

from postureapp.facts.base import register

PROVIDER = "aws"


class AWSRegionFacts(TypedDict):
    """One per region read, so "in every region" checks know the regions."""

    region: str


register(PROVIDER, "AWSRegion", AWSRegionFacts)
