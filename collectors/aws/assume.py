"""Reading one member account of an organisation: the role assumed there, and its session.

An organisation's account target (see :mod:`.organizations`) carries ``account`` (the
account id it must reach), ``source_profile`` (the credentials that list the accounts and
assume the roles; None for the default chain), and, for every account but the caller's
own, ``role_arn`` with an optional ``external_id``. The session is the source session
with the role's credentials in it: they refresh themselves through ``sts:AssumeRole``
before they expire, so a long collection never runs on expired credentials, and the
source session's event hooks (the tests' faults) come along.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from postureapp.collectors.aws._common import AwsCallError, describe_error

# The name every session in a member account carries (CloudTrail shows it).
SESSION_NAME = "postureapp"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")


def role_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The member-account options of a target, validated; a ValueError names the one
    that is wrong."""
    account = raw.get("account") or None
    if account is not None and not _ACCOUNT.match(str(account)):
        raise ValueError(f"option 'account' must be a 12-digit account id, not {account!r}")
    role_arn = raw.get("role_arn") or None
    if role_arn is not None:
        match = _ROLE_ARN.match(str(role_arn))
        if not match:
            raise ValueError(f"option 'role_arn' is not an IAM role ARN: {role_arn!r}")
        if account is not None and match.group(1) != account:
            raise ValueError(f"role {role_arn} is not in account {account}")
    external_id = raw.get("external_id") or None
    if external_id is not None and not _EXTERNAL_ID.match(str(external_id)):
        raise ValueError("option 'external_id' must be 2 to 1224 of A-Z a-z 0-9 +=,.@:/-_")
    source = raw.get("source_profile") or None
    if source is not None and not isinstance(source, str):
        raise ValueError("option 'source_profile' must be a profile name")
    name = raw.get("role_session_name") or SESSION_NAME
    return {
        "account": account,
        "role_arn": role_arn,
        "external_id": external_id,
        "source_profile": source,
        "role_session_name": str(name),
    }


def assumed_session(
    source: Any,
    open_session: Callable[[], Any],
    make_client: Callable[[Any, str, str], Any],
    options: Any,
    region: str,
    calls: Counter[str],
) -> Any:
    """A session holding ``options.role_arn``'s credentials, refreshed before expiry.

    ``source`` assumes the role; ``open_session()`` opens another session like it (same
    profile, same hooks) to carry the role's credentials.

    Raises:
        AwsCallError: the role could not be assumed (refused, throttled past the
            retries, unreachable); its reason names ``sts:AssumeRole`` and the role.
    """
    from botocore.credentials import RefreshableCredentials

    sts = make_client(source, "sts", region)
    sts.meta.events.register_first("before-call", lambda **_: calls.update(["sts"]))
    params: dict[str, Any] = {
        "RoleArn": options.role_arn,
        "RoleSessionName": options.role_session_name,
    }
    if options.external_id:
        params["ExternalId"] = options.external_id

    def fetch() -> dict[str, str]:
        answer = sts.assume_role(**params)
        credentials = answer["Credentials"]
        expiry = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiry if isinstance(expiry, str) else expiry.isoformat(),
        }

    try:
        metadata = fetch()
    except Exception as exc:  # every botocore failure is a reason for this account's run
        raise describe_error(exc, "sts:AssumeRole") from exc
    credentials = RefreshableCredentials.create_from_metadata(
        metadata, refresh_using=fetch, method="assume-role"
    )
    session = open_session()
    # boto3 has no public setter for refreshable credentials; botocore's session reads
    # this attribute first, which is how botocore's own assume-role provider is wired.
    session._session._credentials = credentials
    return session


def refusal(error: AwsCallError, options: Any) -> str:
    """The run's error for an account whose role could not be assumed."""
    return (
        f"cannot assume {options.role_arn} in account {options.account}: {error.reason}. "
        "Deploy the member role (deploy/aws/member-role.yaml) there, or exclude the account "
        "(fleet.aws_exclude_accounts)"
    )
