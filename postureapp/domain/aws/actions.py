"""IAM action names from botocore's service models, for wildcard expansion.

A policy's ``s3:Get*`` means every S3 action whose name starts with ``Get``; botocore
ships the API model of every service, whose operation names are (nearly always) the
IAM action names. Loading all ~400 models costs seconds, so a model is loaded only when
a policy names its service, once per process.

IAM service prefixes are the models' ``signingName`` (falling back to
``endpointPrefix``), not always the model's directory name: ``execute-api`` is
``apigateway``'s, ``states`` is ``stepfunctions``'. The common ones resolve directly;
an unknown prefix triggers one scan of the models' metadata (cached too).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from postureapp.domain.aws.policy import action_covers

_lock = threading.Lock()

# Prefixes whose model directory differs, to skip the metadata scan for the usual ones.
_KNOWN_ALIASES = {
    "execute-api": "apigateway",
    "states": "stepfunctions",
    "elasticloadbalancing": "elbv2",
    "monitoring": "cloudwatch",
    "email": "ses",
    "es": "opensearch",
}


@lru_cache(maxsize=1)
def _loader():
    from botocore.loaders import Loader

    return Loader()


@lru_cache(maxsize=1)
def _available() -> frozenset[str]:
    return frozenset(_loader().list_available_services("service-2"))


@lru_cache(maxsize=1)
def _prefix_index() -> dict[str, str]:
    """signingName/endpointPrefix -> model name; built only for an unusual prefix."""
    index: dict[str, str] = {}
    for name in sorted(_available()):
        try:
            metadata = _loader().load_service_model(name, "service-2").get("metadata", {})
        except Exception:  # noqa: S112  (a broken model must not break the graph)
            continue
        for key in ("signingName", "endpointPrefix"):
            value = metadata.get(key)
            if value:
                index.setdefault(str(value).lower(), name)
    return index


def model_name(prefix: str) -> str | None:
    """The botocore model that defines the actions of an IAM service prefix."""
    prefix = prefix.lower()
    if prefix in _KNOWN_ALIASES:
        return _KNOWN_ALIASES[prefix]
    if prefix in _available():
        return prefix
    return _prefix_index().get(prefix)


@lru_cache(maxsize=512)
def service_actions(prefix: str) -> tuple[str, ...]:
    """Every action of one IAM service (``s3`` -> ``s3:GetObject``, ...), or ``()``
    when botocore has no model for the prefix."""
    name = model_name(prefix)
    if name is None:
        return ()
    with _lock:
        try:
            model = _loader().load_service_model(name, "service-2")
        except Exception:
            return ()
    return tuple(sorted(f"{prefix.lower()}:{op}" for op in model.get("operations", {})))


@lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[str, ...]:
    """The actions an ``Action`` pattern covers, e.g. ``s3:Get*`` -> 40 names.

    ``*`` (every action of every service) is not expanded: it stays ``("*",)``. A
    pattern of a service botocore does not know stays as written, so nothing a policy
    grants is lost by expansion."""
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
