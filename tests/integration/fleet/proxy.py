"""A fault-injecting HTTP proxy in front of moto's server, for fleet tests that run
``posture`` as a subprocess (botocore hooks cannot reach into another process).

It forwards every request to moto unchanged, except where a rule says otherwise:

* ``refuse``: account ids whose role ``sts:AssumeRole`` answers 403 AccessDenied, as
  STS does when the role's trust policy does not name the caller;
* ``throttle``: account id -> how many of that account's requests answer a throttling
  error first (``Throttling`` / ``RequestLimitExceeded`` / ``ThrottlingException`` in the
  service's own protocol), as a busy account's API quotas do;
* ``deny_actions`` / ``throttle_actions``: an operation (``ListAccounts``) denied always,
  or throttled its first N times.

A request's account is known from its access key: the management key is given, and
every ``AssumeRole`` answer that goes through maps the key it hands out to the role's
account. The proxy counts requests per account and the most requests it ever had in
flight at once, so tests can assert API calls per account and the concurrency bound.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_KEY = re.compile(r"Credential=([A-Z0-9]+)/\d+/([a-z0-9-]+)/([a-z0-9-]+)/")
_ROLE_ACCOUNT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/")
_ISSUED_KEY = re.compile(r"<AccessKeyId>([A-Z0-9]+)</AccessKeyId>")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass
class Rules:
    refuse: set[str] = field(default_factory=set)
    throttle: dict[str, int] = field(default_factory=dict)
    deny_actions: set[str] = field(default_factory=set)
    throttle_actions: dict[str, int] = field(default_factory=dict)


class FaultProxy:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is the endpoint."""

    def __init__(self, upstream: str, keys: dict[str, str], rules: Rules | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules = rules or Rules()
        self.keys = dict(keys)  # access key id -> account
        self.requests: Counter[str] = Counter()  # account -> requests
        self.throttled: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- deciding ------------------------------------------------------------------------

    def _decide(self, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes] | None:
        match = _KEY.search(headers.get("authorization", ""))
        key, service = (match.group(1), match.group(3)) if match else ("", "")
        target = headers.get("x-amz-target", "")
        form = parse_qs(body.decode("utf-8", "replace")) if not target else {}
        action = target.rpartition(".")[2] if target else (form.get("Action") or [""])[0]
        with self._lock:
            account = self.keys.get(key, "")
            self.requests[account] += 1
            self.actions[action] += 1
            if action in self.rules.deny_actions:
                return _error(service, target, 400, "AccessDeniedException", "denied by the test")
            if self.rules.throttle_actions.get(action, 0) > 0:
                self.rules.throttle_actions[action] -= 1
                self.throttled[action] += 1
                return _throttle(service, target)
            if action == "AssumeRole":
                role = _ROLE_ACCOUNT.search((form.get("RoleArn") or [""])[0])
                if role and role.group(1) in self.rules.refuse:
                    self.refused[role.group(1)] += 1
                    return _error(
                        "sts",
                        "",
                        403,
                        "AccessDenied",
                        f"User is not authorized to perform: sts:AssumeRole on {role.group(0)}",
                    )
            if account and self.rules.throttle.get(account, 0) > 0 and (target or form):
                self.rules.throttle[account] -= 1
                self.throttled[account] += 1
                return _throttle(service, target)
        return None

    def _learn(self, body: bytes, request_body: bytes) -> None:
        issued = _ISSUED_KEY.search(body.decode("utf-8", "replace"))
        role = _ROLE_ACCOUNT.search(parse_qs(request_body.decode()).get("RoleArn", [""])[0])
        if issued and role:
            with self._lock:
                self.keys[issued.group(1)] = role.group(1)

    # -- serving -------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with proxy._lock:
                    proxy.in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy.in_flight)
                try:
                    decided = proxy._decide(headers, body)
                    if decided is None:
                        decided = self._forward(headers, body)
                    status, out_headers, payload = decided
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1
                self.send_response(status)
                for name, value in out_headers.items():
                    if name.lower() not in _HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                try:
                    forward = {k: v for k, v in headers.items() if k not in _HOP}
                    conn.request(self.command, self.path, body=body or None, headers=forward)
                    answer = conn.getresponse()
                    payload = answer.read()
                    if b"AssumeRoleResponse" in payload[:200]:
                        proxy._learn(payload, body)
                    return answer.status, dict(answer.getheaders()), payload
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        return Handler


def _throttle(service: str, target: str) -> tuple[int, dict, bytes]:
    if target:
        code = "TooManyRequestsException" if "Organizations" in target else "ThrottlingException"
        return _error(service, target, 400, code, "Rate exceeded")
    if service == "ec2":
        return _error(service, "", 503, "RequestLimitExceeded", "Request limit exceeded.")
    return _error(service, "", 400, "Throttling", "Rate exceeded")


def _error(service: str, target: str, status: int, code: str, message: str):
    if target:
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, {"Content-Type": "application/x-amz-json-1.1"}, body
    if service == "ec2":
        text = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            "</Error></Errors><RequestID>proxy</RequestID></Response>"
        )
    else:
        text = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
        )
    return status, {"Content-Type": "text/xml"}, text.encode()
