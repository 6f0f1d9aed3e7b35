"""The credentials behind each identity of the graph, and which are stale: the last part
of the on-call question ("...and which of its credentials are stale?").

A credential is something that lets a holder act as the identity without the platform
minting it per use: an IAM user's access keys and password, a service account's
long-lived token Secret. An IAM role has no credential of its own, but its last use says
whether the trust it grants is still needed. Staleness uses the same thresholds as the
checks (``secret_rotation_days``, ``unused_days``), so the tree and the findings agree.
Dates, never ages, so the text is stable across polls on the same day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from postureapp.dates import day, when

# The same dates and thresholds as the AWS dormancy checks, so tree and findings agree.
from postureapp.domain.thresholds import ROTATION_DAYS, UNUSED_DAYS, cutoff, threshold
from postureapp.graph.graph import Graph
from postureapp.graph.model import IAM_ROLE, IAM_USER, SERVICE_ACCOUNT
from postureapp.inventory import Inventory
from postureapp.model import Resource

TOKEN_TYPE = "kubernetes.io/service-account-token"


@dataclass(frozen=True, slots=True)
class Credential:
    """One credential of an identity; ``stale`` None when it cannot be told."""

    what: str  # "access key AKIA... (slot 1)", "token Secret data/etl-token"
    detail: str  # "created 2025-01-02, last used 2025-03-04"
    stale: bool | None
    uid: str = ""  # the credential's resource, when it is one


def credentials_of(inv: Inventory, graph: Graph) -> dict[str, list[Credential]]:
    """Identity node uid -> its credentials, stale ones first."""
    clock = _Clock(inv)
    tokens: dict[tuple[str, str, str], list[Resource]] = defaultdict(list)
    for secret in inv.of("kubernetes", "Secret"):
        if secret.attrs.get("type") == TOKEN_TYPE and secret.attrs.get("service_account"):
            tokens[(secret.scope, secret.namespace, secret.attrs["service_account"])].append(secret)
    keys: dict[str, list[Resource]] = defaultdict(list)
    for key in inv.of("aws", "IAMAccessKey"):
        keys[str(key.attrs.get("user_arn"))].append(key)

    found: dict[str, list[Credential]] = {}
    for node in graph.nodes.values():
        if node.kind == SERVICE_ACCOUNT:
            resource = inv.get(node.uid)
            if resource is None:
                continue
            secrets = tokens.get((resource.scope, resource.namespace, resource.name), [])
            items = [_token(secret, clock) for secret in secrets]
        elif node.kind == IAM_USER:
            resource = inv.get(node.uid)
            items = [_access_key(key, clock) for key in keys.get(node.uid, [])]
            if resource is not None:
                items.extend(_password(resource, clock))
        elif node.kind == IAM_ROLE:
            resource = inv.get(node.uid)
            items = [_role_use(resource, clock)] if resource is not None else []
        else:
            continue
        if items:
            found[node.uid] = sorted(items, key=lambda c: (c.stale is not True, c.what))
    return found


class _Clock:
    def __init__(self, inv: Inventory) -> None:
        self.rotation_days = threshold(inv, "secret_rotation_days", ROTATION_DAYS)
        self.unused_days = threshold(inv, "unused_days", UNUSED_DAYS)
        self.rotate_before = cutoff(inv, self.rotation_days)
        self.use_before = cutoff(inv, self.unused_days)


def _day(moment: datetime | None) -> str:
    return day(moment) if moment else "unknown"


def _token(secret: Resource, clock: _Clock) -> Credential:
    """A long-lived token never expires; it is stale when nothing used it lately."""
    created = when(secret.created_at)
    last = when(secret.attrs.get("legacy_token_last_used"))
    invalid = secret.attrs.get("legacy_token_invalid_since")
    what = f"long-lived token Secret {secret.namespace}/{secret.name}"
    if invalid:
        return Credential(what, f"invalidated since {invalid}", False, secret.uid)
    used = f"last used {_day(last)}" if last else "no recorded use"
    detail = f"never expires; created {_day(created)}, {used}"
    if last is not None:
        stale = last < clock.use_before
    elif created is not None:
        stale = created < clock.use_before
    else:
        stale = None
    if stale:
        detail += f" (unused for over {clock.unused_days} days)"
    return Credential(what, detail, stale, secret.uid)


def _access_key(key: Resource, clock: _Clock) -> Credential:
    attrs = key.attrs
    label = attrs.get("access_key_id") or (f"slot {attrs['slot']}" if attrs.get("slot") else "")
    what = f"access key {label}".strip()
    if not attrs.get("active"):
        return Credential(
            what + " (inactive)", f"created {_day(when(attrs.get('created')))}", False, key.uid
        )
    created = when(attrs.get("created"))
    last = when(attrs.get("last_used_date"))
    reasons = []
    if created is not None and created < clock.rotate_before:
        reasons.append(f"not rotated for over {clock.rotation_days} days")
    if (seen := last or created) is not None and seen < clock.use_before:
        reasons.append(f"unused for over {clock.unused_days} days")
    used = f"last used {_day(last)}" if last else "never used"
    detail = f"created {_day(created)}, {used}"
    if reasons:
        detail += f" ({'; '.join(reasons)})"
    return Credential(what, detail, bool(reasons) if created else None, key.uid)


def _password(user: Resource, clock: _Clock) -> list[Credential]:
    credentials = user.attrs.get("credentials") or {}
    if not credentials.get("password_enabled"):
        return []
    last = when(credentials.get("password_last_used"))
    mfa = "with MFA" if credentials.get("mfa_active") else "without MFA"
    used = f"last used {_day(last)}" if last else "never used"
    stale = last is None or last < clock.use_before
    detail = f"{mfa}, {used}"
    if stale:
        detail += f" (unused for over {clock.unused_days} days)"
    return [Credential("console password", detail, stale)]


def _role_use(role: Resource, clock: _Clock) -> Credential:
    last = when(role.attrs.get("last_used_date"))
    created = when(role.attrs.get("create_date"))
    if last is not None:
        stale: bool | None = last < clock.use_before
        detail = f"last assumed {_day(last)}"
    else:
        stale = created < clock.use_before if created else None
        detail = f"never assumed since {_day(created)}" if created else "no recorded use"
    if stale:
        detail += f" (unused for over {clock.unused_days} days: is the trust still needed?)"
    return Credential("role sessions", detail, stale, role.uid)
