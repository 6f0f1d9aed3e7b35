"""HTTP plumbing for the Kubernetes collector: one request with bounded retries, and
list paging with ``limit``/``continue``.

Every call goes through the official client with ``_preload_content=False`` and the body
is parsed with :func:`json.loads`: building the client's model objects for ten thousand
pods costs far more than the HTTP does, and the normalisers want plain JSON anyway.

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
