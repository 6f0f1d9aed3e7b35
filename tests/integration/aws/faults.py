"""Faults injected into botocore at the HTTP layer, for the AWS collector tests.

A handler on ``before-send.<service>.<Operation>`` returns a canned HTTP response instead
of sending the request. That is *inside* botocore's retry loop: the response goes
through the real parser, error classes and the adaptive retry handler, exactly as a
response from AWS would. (A ``before-call`` hook would short-circuit above the retry
handler, so a throttle injected there would never be retried.)

Why hooks rather than moto's IAM enforcement (``INITIAL_NO_AUTH_ACTION_COUNT``): that
setting is read once per process, counts every request (seeding included), and moto
enforces IAM policies for only some services and actions. A hook denies exactly one
operation, deterministically, with the error shape the real service uses.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(protocol: str, status: int, code: str, message: str) -> AWSResponse:
    """An error response as ``protocol`` (the service model's) encodes it."""
    headers = {"x-amzn-requestid": "posture-fault"}
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>posture-fault</RequestId></ErrorResponse>"
        )
        headers["Content-Type"] = "text/xml"
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            "</Error></Errors><RequestID>posture-fault</RequestID></Response>"
        )
        headers["Content-Type"] = "text/xml"
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        headers["Content-Type"] = "application/xml"
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        headers["Content-Type"] = "application/x-amz-json-1.1"
    else:  # rest-json
        body = json.dumps({"message": message})
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = code
    return AWSResponse("https://fault.invalid/", status, headers, _Raw(body.encode()))


class Fault:
    """Answer ``operation`` of ``service`` with an error, ``times`` times (None: always)."""

    def __init__(
        self,
        service: str,
        operation: str,
        *,
        status: int,
        code: str,
        message: str = "injected by the test",
        times: int | None = None,
        region: str | None = None,
    ) -> None:
        import botocore.session

        model = botocore.session.get_session().get_service_model(service)
        self.protocol = model.protocol
        self.event = f"before-send.{model.service_id.hyphenize()}.{operation}"
        self.status = status
        self.code = code
        self.message = message
        self.times = times
        self.region = region  # only requests signed for this region (a region-deny SCP)
        self.fired = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any = None, **_: Any) -> AWSResponse | None:
        if self.region is not None:
            # SigV4 names the region in the credential scope: .../<date>/<region>/<service>/
            authorization = str((request.headers if request else {}).get("Authorization", ""))
            if f"/{self.region}/" not in authorization:
                return None
        with self._lock:
            if self.times is not None and self.fired >= self.times:
                return None
            self.fired += 1
        return error_response(self.protocol, self.status, self.code, self.message)


class Recorder:
    """Every operation a client made, as (service, Operation) pairs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, model: Any = None, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.service_model.service_name, model.name))


def session_factory(*faults: Fault, recorder: Recorder | None = None) -> Any:
    """A session factory for ``AwsCollector`` whose sessions carry the faults."""
    import boto3

    def make(profile: str | None) -> Any:
        session = boto3.Session(profile_name=profile)
        for fault in faults:
            session.events.register(fault.event, fault)
        if recorder is not None:
            session.events.register("before-call", recorder)
        return session

    return make
