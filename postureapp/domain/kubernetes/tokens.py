"""Service-account token Secrets: the one definition of a long-lived token, shared by
the secrets checks and the identity graph's credentials."""

from __future__ import annotations

from postureapp.domain.kubernetes.objects import PROVIDER
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import SecretFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource

SA_TOKEN = "kubernetes.io/service-account-token"


def is_legacy_token(secret: Resource) -> bool:
    """A long-lived service-account token Secret. Such a Secret always carries the
    ``kubernetes.io/service-account.name`` annotation, so it is recognised even when the
    type could not be read."""
    kind = facts_of(secret, SecretFacts).get("type")
    return kind == SA_TOKEN or (
        kind is None and bool(facts_of(secret, SecretFacts).get("service_account"))
    )


def legacy_tokens(inv: Inventory, scope: str | None = None) -> list[Resource]:
    return [s for s in inv.of(PROVIDER, "Secret", scope) if is_legacy_token(s)]
