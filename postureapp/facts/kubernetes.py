"""Facts of the Kubernetes kinds, as :mod:`postureapp.collectors.kubernetes.normalise`
writes them (live and offline alike).

Conventions: an optional boolean that is not set is ``None``, not ``False``
(Kubernetes defaults differ from "false"); lists keep the source order; nothing here is
ever a secret value.
"""

from __future__ import annotations

# typing_extensions: pydantic (the conformance tests) validates TypedDicts only from it
# before Python 3.12.
from typing_extensions import TypedDict

from postureapp.facts import register

PROVIDER = "kubernetes"


class OwnerReference(TypedDict):
    kind: str
    name: str
    api_version: str
    controller: bool


class ObjectFacts(TypedDict):
    """What every Kubernetes kind has."""

    api_version: str
    object_uid: str | None  # metadata.uid: changes when the object is re-created
    labels: dict[str, str]
    # kubectl.kubernetes.io/last-applied-configuration is always dropped: it can hold a
    # whole Secret, data included, or a pod's literal env values.
    annotations: dict[str, str]
    owner_references: list[OwnerReference]


class PodSecurityLabels(TypedDict):
    enforce: str | None
    enforce_version: str | None
    audit: str | None
    audit_version: str | None
    warn: str | None
    warn_version: str | None


class NamespaceFacts(ObjectFacts):
    phase: str | None
    pod_security: PodSecurityLabels


register(PROVIDER, "Namespace", NamespaceFacts)
