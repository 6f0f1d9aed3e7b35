"""HTTP plumbing for the Kubernetes collector: one request with bounded retries, and
list paging with ``limit``/``continue``.

Every call goes through the official client's :class:`~kubernetes.client.ApiClient` (its
configuration, credentials, TLS and urllib3 pool) without preloading, and the body is
parsed with :func:`json.loads`: building the client's model objects for ten thousand pods
costs far more than the HTTP does, and the normalisers want plain JSON anyway. The
requests are built by :func:`getter` with the ApiClient's own ``param_serialize`` and sent
with its ``call_api``, exactly as the generated ``CoreV1Api``-style methods do, but
without importing those classes: since client 35 they are pydantic-validated and their
import defines some 400 pydantic models, 0.5-0.8 s of CPU per process for nothing we use.

Errors are classified here so the collector can decide what they mean:

- :class:`Unauthorized` (401) and :class:`Unreachable` (connection refused or reset
  after the retries, TLS failure) end the whole target;
- :class:`Forbidden` (403), :class:`NotFound` (404), :class:`Unavailable` (429, 5xx or a
  read timeout after the retries), :class:`Malformed` and a twice-:class:`Expired` list
  make one kind unknown.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class KubeError(Exception):
    """A request that did not produce a usable answer."""


class Unauthorized(KubeError):
    pass


class Forbidden(KubeError):
    pass


class NotFound(KubeError):
    pass


class Expired(KubeError):
    pass


class Unavailable(KubeError):
    pass


class Unreachable(KubeError):
    pass


class Malformed(KubeError):
    pass


class Aborted(KubeError):
    """Another part of the collection hit a fatal error; stop paging."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # tries in all, the first included
    backoff: float = 0.5  # seconds before the second try; doubles each time
    max_backoff: float = 8.0  # cap, also on a server's Retry-After

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_backoff, max(0.0, retry_after))
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)  # jitter, so parallel lists do not align


JSON_ACCEPT = "application/json"


def getter(
    api_client: ApiClient,
    path: str,
    path_params: dict[str, str] | None = None,
    *,
    accept: str = JSON_ACCEPT,
    field_selector: str | None = None,
) -> Callable[..., Any]:
    """A GET of ``path`` (``{name}`` placeholders filled from ``path_params``, quoted)
    through the official client, called as a generated list method is:
    ``call(_preload_content=False, _request_timeout=..., limit=..., _continue=...)``.
    Returns the raw urllib3 response; a status outside 2xx raises the client's
    :class:`ApiException` (the same subclasses the generated methods raise)."""

    def call(
        _preload_content: bool = False,
        _request_timeout: Any = None,
        limit: int | None = None,
        _continue: str | None = None,
    ) -> Any:
        # Query parameters in the order the generated methods add them.
        query: list[tuple[str, Any]] = []
        if _continue is not None:
            query.append(("continue", _continue))
        if field_selector is not None:
            query.append(("fieldSelector", field_selector))
        if limit is not None:
            query.append(("limit", limit))
        request = api_client.param_serialize(
            method="GET",
            resource_path=path,
            path_params=dict(path_params or {}),
            query_params=query,
            header_params={"Accept": accept},  # a fresh dict: the client adds auth to it
            auth_settings=["BearerToken"],
        )
        response = api_client.call_api(*request, _request_timeout=_request_timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response

    return call


def list_path(group: str, version: str, plural: str) -> tuple[str, dict[str, str]]:
    """The path (and its parameters) that lists a kind across all namespaces."""
    if not group:
        return "/api/{version}/{plural}", {"version": version, "plural": plural}
    return "/apis/{group}/{version}/{plural}", {
        "group": group,
        "version": version,
        "plural": plural,
    }


def status_message(exc: ApiException) -> str:
    """The ``message`` of a metav1.Status body, or the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except (TypeError, ValueError):
        pass
    return str(exc.reason or f"HTTP {exc.status}").strip()


def _retry_after(exc: ApiException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Requester:
    """Sends GETs through a client method, retrying what is worth retrying.

    Args:
        policy: attempts and backoff.
        timeout: (connect, read) seconds per request.
        count: called once per HTTP request sent (retries included).
        stopped: when it returns True, paging stops with :class:`Aborted`.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        timeout: tuple[float, float],
        count: Callable[[], None],
        stopped: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.count = count
        self.stopped = stopped
        self.sleep = sleep

    def get_json(self, call: Callable[..., Any], what: str, **kwargs: Any) -> dict[str, Any]:
        """One GET, parsed. ``what`` names the request in error messages."""
        body = self._get(call, what, **kwargs)
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise Malformed(f"{what}: the answer is not JSON ({exc.msg})") from None
        except ValueError:  # bytes that are not UTF-8 (or -16, -32) text
            raise Malformed(f"{what}: the answer is not text") from None
        if not isinstance(data, dict):
            raise Malformed(f"{what}: the answer is not a JSON object")
        return data

    def _get(self, call: Callable[..., Any], what: str, **kwargs: Any) -> bytes:
        attempts = max(1, self.policy.attempts)
        for attempt in range(1, attempts + 1):
            if self.stopped():
                raise Aborted(what)
            self.count()
            retry_after = None
            try:
                response = call(_preload_content=False, _request_timeout=self.timeout, **kwargs)
                try:
                    return response.data
                finally:
                    response.release_conn()
            except ApiException as exc:
                status = exc.status or 0
                if status == 0:  # the client wraps TLS failures this way
                    lines = [line.strip() for line in str(exc.reason).splitlines()]
                    detail = ": ".join(line for line in lines if line)[:300]
                    raise Unreachable(f"{what}: {detail}") from None
                message = status_message(exc)
                if status == 401:
                    raise Unauthorized(message) from None
                if status == 403:
                    raise Forbidden(message) from None
                if status == 404:
                    raise NotFound(f"{what}: {message}") from None
                if status == 410:
                    raise Expired(message) from None
                if status not in RETRIED_STATUSES:
                    raise Malformed(f"{what}: HTTP {status}: {message}") from None
                retry_after = _retry_after(exc)
                failure: KubeError = Unavailable(
                    f"{what}: HTTP {status} ({message}) after {attempt} tries"
                )
            except urllib3.exceptions.NewConnectionError as exc:
                failure = Unreachable(f"{what}: cannot connect ({_reason(exc)})")
            except urllib3.exceptions.ConnectTimeoutError as exc:
                failure = Unreachable(f"{what}: connection timed out ({_reason(exc)})")
            except urllib3.exceptions.ReadTimeoutError:
                failure = Unavailable(
                    f"{what}: no answer within {self.timeout[1]:g} s after {attempt} tries"
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                failure = Unreachable(f"{what}: connection lost ({_reason(exc)})")
            if attempt < attempts:
                self.sleep(self.policy.delay(attempt, retry_after))
        raise failure

    def list_items(
        self,
        call: Callable[..., Any],
        what: str,
        page_size: int,
        handle: Callable[[list[Any], dict[str, Any]], None],
        **kwargs: Any,
    ) -> None:
        """Page through a list, passing each page's items (and the page) to ``handle``.

        A 410 on a continue token restarts the list once from the beginning; ``handle``
        must then start over too, so callers collect into a fresh container per attempt
        via :meth:`collect`.
        """
        token = None
        while True:
            page = self.get_json(call, what, limit=page_size, _continue=token, **kwargs)
            items = page.get("items")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise Malformed(f"{what}: 'items' is not a list")
            handle(items, page)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def collect(
        self,
        call: Callable[..., Any],
        what: str,
        page_size: int,
        make_handler: Callable[[], tuple[Callable[[list[Any], dict[str, Any]], None], Any]],
        **kwargs: Any,
    ) -> Any:
        """:meth:`list_items` with one restart on 410 Expired. ``make_handler`` returns a
        fresh ``(handle, result)`` pair per attempt; the last attempt's result is returned.
        """
        for attempt in (1, 2):
            handle, result = make_handler()
            try:
                self.list_items(call, what, page_size, handle, **kwargs)
                return result
            except Expired as exc:
                if attempt == 2:
                    raise Expired(
                        f"{what}: the list expired twice while paging (410 Gone: {exc})"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).strip().splitlines()
    return text[0] if text else type(exc).__name__
