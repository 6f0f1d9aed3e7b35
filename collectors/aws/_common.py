"""Helpers shared by the AWS service modules: timestamps, policy documents, uids,
pagination and the one place where a botocore error becomes a one-line reason.

Nothing here talks to AWS by itself; the live path and the offline loader both use it,
so that the same input always normalises to the same attrs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

from postureapp.model import isoformat

GLOBAL = "global"

# Error codes that mean "you may not": the kind becomes unknown, never empty.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "ForbiddenException",
        "403",
    }
)
# The service is not switched on for this account or region.
NOT_ENABLED_CODES = frozenset(
    {"OptInRequired", "SubscriptionRequiredException", "InvalidAccessException"}
)
# Credentials that do not work at all: the whole target fails.
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AuthFailure",
        "RequestExpired",
    }
)

# IAM action names where they differ from "<signing name>:<operation>", by
# (botocore service name, operation).
_ACTION_OVERRIDES = {
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
}


class AwsCallError(Exception):
    """One API call could not be answered; ``reason`` is the one line the run shows."""

    def __init__(self, action: str, reason: str, *, code: str = "", credentials: bool = False):
        super().__init__(reason)
        self.action = action
        self.reason = reason
        self.code = code
        self.credentials = credentials  # the credentials themselves are bad or missing
        # The region of a regional call, so a denial there (a region-deny SCP) leaves
        # the kind unknown in that region only; None for global services.
        self.region: str | None = None


class MalformedAnswer(Exception):
    """An answer that does not have the shape the API documents."""


# -- values ---------------------------------------------------------------------------


def iso(value: Any) -> str | None:
    """Any timestamp AWS or the AWS CLI gives (datetime, ISO string, epoch) as ISO 8601 Z."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return isoformat(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # epoch millis or seconds
        return isoformat(datetime.fromtimestamp(seconds, UTC))
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in {"n/a", "not_supported", "no_information", "none", "null"}:
            return None
        try:
            return isoformat(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
        try:
            from dateutil import parser as date_parser

            return isoformat(date_parser.parse(text))
        except (ValueError, OverflowError):
            return None
    return None


def iso_day(value: Any) -> str | None:
    """Like :func:`iso`, truncated to the day (``2024-05-06T00:00:00Z``).

    For "last used" timestamps: AWS moves them on every use, day precision is all a
    stale-credential check needs, and it keeps a poll where nothing else changed from
    rewriting every active principal in the cache."""
    text = iso(value)
    return None if text is None else f"{text[:10]}T00:00:00Z"


def plain(value: Any) -> Any:
    """Recursively turn an API answer into plain JSON types (datetimes as ISO Z)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, bytes):
        return None  # binary blobs (certificate data, secrets) are never kept
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def tags_dict(tags: Any) -> dict[str, str]:
    """Tags as ``{key: value}``, from ``[{"Key":..,"Value":..}]`` or an existing mapping."""
    if isinstance(tags, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in tags.items()}
    result: dict[str, str] = {}
    for tag in as_list(tags):
        if isinstance(tag, Mapping):
            key = tag.get("Key", tag.get("key", tag.get("TagKey")))
            value = tag.get("Value", tag.get("value", tag.get("TagValue")))
            if key is not None:
                result[str(key)] = "" if value is None else str(value)
    return result


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    return None


# -- policy documents -------------------------------------------------------------------

_STATEMENT_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def decode_policy(doc: Any) -> Any:
    """A policy document as a dict: boto3 already decodes IAM's URL-encoded JSON, the raw
    API and some dumps do not, so accept a dict, a JSON string or a URL-encoded one."""
    if doc is None or isinstance(doc, Mapping):
        return doc
    if not isinstance(doc, str):
        raise MalformedAnswer(f"policy document is a {type(doc).__name__}, not JSON")
    text = doc.strip()
    if not text:
        return None
    # API Gateway returns resource policies with their quotes backslash-escaped.
    for candidate in (text, unquote(text), text.replace('\\"', '"')):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise MalformedAnswer("policy document is not valid JSON")


def normalise_policy(doc: Any) -> dict[str, Any] | None:
    """A policy document in one shape, so checks need not handle the many IAM allows:

    - ``Statement`` is always a list;
    - ``Action``, ``NotAction``, ``Resource`` and ``NotResource`` are always lists;
    - ``Principal`` / ``NotPrincipal`` are ``{type: [values]}`` (``"*"`` becomes
      ``{"AWS": ["*"]}``);
    - ``Condition`` values are lists: ``{operator: {key: [values]}}``.
    Everything else (Sid, Effect, Version, Id) is kept as given.
    """
    doc = decode_policy(doc)
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        raise MalformedAnswer("policy document is not a JSON object")
    result: dict[str, Any] = {k: plain(v) for k, v in doc.items() if k != "Statement"}
    statements = []
    for raw in as_list(doc.get("Statement")):
        if not isinstance(raw, Mapping):
            raise MalformedAnswer("policy statement is not a JSON object")
        statement: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _STATEMENT_LIST_KEYS:
                statement[key] = [str(v) for v in as_list(value)]
            elif key in ("Principal", "NotPrincipal"):
                statement[key] = normalise_principal(value)
            elif key == "Condition" and isinstance(value, Mapping):
                statement[key] = {
                    str(op): (
                        {str(k): plain(as_list(v)) for k, v in block.items()}
                        if isinstance(block, Mapping)
                        else plain(block)
                    )
                    for op, block in value.items()
                }
            else:
                statement[key] = plain(value)
        statements.append(statement)
    result["Statement"] = statements
    return result


def normalise_principal(value: Any) -> dict[str, list[str]]:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, Mapping):
        return {str(k): sorted(str(v) for v in as_list(vs)) for k, vs in value.items()}
    return {"AWS": [str(v) for v in as_list(value)]}


def allowed_principals(policy: dict[str, Any] | None) -> dict[str, list[str]]:
    """Every principal an ``Allow`` statement names, by type (AWS, Service, Federated...)."""
    found: dict[str, set[str]] = {}
    for statement in (policy or {}).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for kind, values in statement.get("Principal", {}).items():
            found.setdefault(kind, set()).update(values)
    return {kind: sorted(values) for kind, values in sorted(found.items())}


# -- identities -------------------------------------------------------------------------


def fallback_uid(account: str, region: str, kind: str, ident: str) -> str:
    """The uid of a resource without an ARN: ``aws://{account}/{region}/{kind}/{id}``."""
    return f"aws://{account}/{region}/{kind}/{ident}"


def scope(account: str, region: str) -> str:
    return f"{account}/{region}"


def account_of_arn(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) >= 5 and parts[0] == "arn" and parts[4].isdigit():
        return parts[4]
    return None


def partition_of_arn(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) >= 2 and parts[0] == "arn" and parts[1] else "aws"


def dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


# -- errors -----------------------------------------------------------------------------


def action_name(model: Any, operation: str) -> str:
    """The IAM action a call needs, e.g. ``iam:GenerateCredentialReport``, from a botocore
    service model and an operation (API) name."""
    override = _ACTION_OVERRIDES.get((model.service_name, operation))
    if override:
        return override
    prefix = model.signing_name or model.endpoint_prefix
    if prefix == "apigateway":  # API Gateway authorises by HTTP verb, and we only read
        return "apigateway:GET"
    return f"{prefix}:{operation}"


def describe_error(exc: BaseException, action: str, where: str = "") -> AwsCallError:
    """One line for the run record: what was called, where (a phrase such as
    ``"in eu-west-1"`` or ``"for bucket logs"``; empty for global calls), what went wrong."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    suffix = f" {where}" if where else ""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {}) or {}
        code = str(
            error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        )
        message = " ".join(str(error.get("Message") or "").split())
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        lowered = message.lower()
        if code in DENIED_CODES:
            return AwsCallError(action, f"{action} denied{suffix} ({code})", code=code)
        if code in CREDENTIAL_CODES:
            return AwsCallError(
                action, f"{action}: credentials rejected ({code})", code=code, credentials=True
            )
        if code in NOT_ENABLED_CODES or "not subscribed" in lowered:
            return AwsCallError(
                action, f"{action}: service not enabled{suffix} ({code})", code=code
            )
        if code in {"404", "NotImplemented", "InvalidAction", "UnknownOperationException"} or (
            status in (404, 500, 501) and ("<html" in lowered or "not been implemented" in lowered)
        ):
            return AwsCallError(
                action, f"{action} not supported by the endpoint{suffix} (HTTP {status})", code=code
            )
        if code in {"Throttling", "ThrottlingException", "TooManyRequestsException"}:
            return AwsCallError(action, f"{action} throttled{suffix}, retries exhausted", code=code)
        detail = f": {message[:160]}" if message else ""
        return AwsCallError(action, f"{action} failed{suffix} ({code}{detail})", code=code)
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return AwsCallError(action, f"{action} timed out{suffix}", code="Timeout")
    if isinstance(exc, EndpointConnectionError):
        return AwsCallError(
            action, f"{action}: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}"
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError) or _is_credential_error(exc):
        text = " ".join(str(exc).split())[:200]
        return AwsCallError(action, f"{action}: {text}", credentials=True)
    if isinstance(exc, BotoCoreError):
        text = " ".join(str(exc).split())[:200]
        return AwsCallError(action, f"{action} failed{suffix} ({type(exc).__name__}: {text})")
    text = " ".join(str(exc).split())[:200]
    return AwsCallError(action, f"{action} failed{suffix} ({type(exc).__name__}: {text})")


def _is_credential_error(exc: BaseException) -> bool:
    """SSO and credential-process failures (expired SSO token, failing helper...)."""
    from botocore import exceptions

    names = (
        "CredentialRetrievalError",
        "SSOError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
        "TokenRetrievalError",
        "InvalidConfigError",
    )
    classes = tuple(getattr(exceptions, name) for name in names if hasattr(exceptions, name))
    return isinstance(exc, classes)


# -- pagination -------------------------------------------------------------------------


def paginate(
    call: Callable[..., Mapping[str, Any]],
    *,
    marker_in: str,
    marker_out: str | None = None,
    truncated_key: str | None = None,
    max_pages: int = 100_000,
    **params: Any,
) -> Iterator[Mapping[str, Any]]:
    """Every page of a list call: ``marker_out`` of one answer is sent as ``marker_in``.

    ``truncated_key`` (IAM's ``IsTruncated``) ends the loop when false even if a marker is
    present. A marker that repeats means the server is looping: that is a malformed
    answer, not an endless poll.
    """
    marker_out = marker_out or marker_in
    seen: set[str] = set()
    token: str | None = None
    for _ in range(max_pages):
        request = dict(params)
        if token:
            request[marker_in] = token
        page = call(**request)
        if not isinstance(page, Mapping):
            raise MalformedAnswer(f"a page is a {type(page).__name__}, not an object")
        yield page
        if truncated_key is not None and not page.get(truncated_key):
            return
        token = page.get(marker_out)
        if not token:
            return
        if token in seen:
            raise MalformedAnswer(f"pagination marker {marker_out} repeated")
        seen.add(token)
    raise MalformedAnswer(f"more than {max_pages} pages")
