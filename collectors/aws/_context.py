"""What one AWS collection shares across its worker threads.

A :class:`Context` holds the target's boto3 session, the account, lazily created
clients (one per service and region, all counted by a ``before-call`` hook), the
kinds that could not be read and why, and the queue of follow-up work units. Service
modules only ever talk to AWS through :meth:`Context.call` and :meth:`Context.pages`,
which turn every failure into an :class:`AwsCallError` carrying a one-line reason.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from postureapp.collectors.aws._common import (
    AwsCallError,
    MalformedAnswer,
    action_name,
    describe_error,
    paginate,
)
from postureapp.model import Resource

# Services whose answers are not tied to the client's region.
GLOBAL_SERVICES = frozenset({"iam", "organizations", "s3", "s3control", "sts"})
# Reasons kept per kind; more are summarised so a run record stays one readable line.
_MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class Options:
    """The target options, validated (see ``postureapp.collectors.aws`` for their meaning)."""

    regions: tuple[str, ...] = ()
    all_regions: bool = False
    endpoint_url: str | None = None
    services: frozenset[str] | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5
    max_workers: int = 8
    deadline: float | None = 600.0
    credential_report_wait: float = 30.0
    # A member account of an organisation (see postureapp.collectors.aws.assume).
    account: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    source_profile: str | None = None
    role_session_name: str = "postureapp"


@dataclass(slots=True)
class Unit:
    """A piece of work run on the pool: a label for messages, the kinds it produces (so
    an unexpected failure or the deadline marks exactly those unknown) and the function."""

    label: str
    kinds: tuple[str, ...]
    run: Callable[[], Iterable[Resource]]


@dataclass
class Context:
    session: Any
    account: str
    partition: str
    options: Options
    default_region: str
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter[str] = field(default_factory=Counter)
    _unknown: dict[tuple[str, str | None], list[str]] = field(default_factory=dict)
    _spawned: list[Unit] = field(default_factory=list)
    _finalisers: list[tuple[Callable[[list[Resource]], None], tuple[str, ...]]] = field(
        default_factory=list
    )
    shared: dict[str, Any] = field(default_factory=dict)
    _answered: set[str] = field(default_factory=set)

    # -- clients ------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for one service in one region, created once and shared by threads
        (botocore clients are thread-safe; creating them from a session is not)."""
        region = region or self.default_region
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = make_client(self.session, service, region, self.options)
                client.meta.events.register_first("before-call", self._count)
                self._clients[key] = client
            return client

    def _count(self, model: Any = None, **_: Any) -> None:
        service = model.service_model.service_name if model is not None else "unknown"
        with self._lock:
            self.calls[service] += 1

    @property
    def api_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    # -- calls --------------------------------------------------------------------------

    def call(
        self,
        client: Any,
        operation: str,
        *,
        absent: Iterable[str] = (),
        where: str | None = None,
        **params: Any,
    ) -> dict[str, Any] | None:
        """Call one operation (``operation`` is the Python name, e.g. ``get_bucket_acl``).

        Returns None when the error code is one of ``absent`` ("not configured" is an
        answer, not a failure); raises :class:`AwsCallError` for everything else, its
        reason placed ``where`` (default: "in <region>" for regional services).
        """
        from botocore.exceptions import ClientError

        method = getattr(client, operation)
        try:
            return method(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code and code in set(absent):
                return None
            raise self._error(client, operation, exc, where) from exc
        except Exception as exc:  # botocore raises many unrelated types; all are data here
            raise self._error(client, operation, exc, where) from exc

    def pages(
        self,
        client: Any,
        operation: str,
        *,
        marker_in: str,
        marker_out: str | None = None,
        truncated_key: str | None = None,
        **params: Any,
    ) -> Iterator[Mapping[str, Any]]:
        """Every page of a list operation, through boto3's paginator for it (botocore
        knows each operation's token names and truncation flag); the marker arguments
        serve operations botocore has no paginator for. Each page fetch is one counted
        call whose failure becomes an :class:`AwsCallError`."""
        if hasattr(client, "can_paginate") and client.can_paginate(operation):
            yield from self._paginated(client, operation, params)
            return

        def one_page(**request: Any) -> Mapping[str, Any]:
            return self.call(client, operation, **request) or {}

        try:
            yield from paginate(
                one_page,
                marker_in=marker_in,
                marker_out=marker_out,
                truncated_key=truncated_key,
                **params,
            )
        except MalformedAnswer as exc:
            action = _action(client, operation)
            raise AwsCallError(action, f"{action}: malformed answer ({exc})") from exc

    def _paginated(
        self, client: Any, operation: str, params: dict[str, Any]
    ) -> Iterator[Mapping[str, Any]]:
        from botocore.exceptions import ClientError, PaginationError

        pages = iter(client.get_paginator(operation).paginate(**params))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except PaginationError as exc:  # botocore: "the same next token was received twice"
                action = _action(client, operation)
                raise AwsCallError(
                    action, f"{action}: malformed answer (pagination token repeated)"
                ) from exc
            except ClientError as exc:
                raise self._error(client, operation, exc, None) from exc
            except Exception as exc:  # botocore raises many unrelated types; all are data here
                raise self._error(client, operation, exc, None) from exc
            if not isinstance(page, Mapping):
                action = _action(client, operation)
                raise AwsCallError(action, f"{action}: malformed answer (a page is not an object)")
            yield page

    def _error(
        self, client: Any, operation: str, exc: BaseException, where: str | None
    ) -> AwsCallError:
        regional = client.meta.service_model.service_name not in GLOBAL_SERVICES
        if where is None:
            where = f"in {client.meta.region_name}" if regional else ""
        error = describe_error(exc, _action(client, operation), where)
        if regional and not error.credentials:
            error.region = client.meta.region_name
        return error

    # -- what could not be read ----------------------------------------------------------

    def unknown(self, kind: str, reason: str, region: str | None = None) -> None:
        """``kind`` could not be read: in ``region`` only, or (None) anywhere."""
        with self._lock:
            reasons = self._unknown.setdefault((kind, region), [])
            if reason not in reasons:
                reasons.append(reason)

    @contextmanager
    def reading(self, *kinds: str) -> Iterator[None]:
        """Run a block that reads ``kinds``; a failed call marks them unknown and the
        collection goes on with the next block."""
        try:
            yield
        except AwsCallError as exc:
            for kind in kinds:
                self.unknown(kind, exc.reason, exc.region)
        except MalformedAnswer as exc:
            for kind in kinds:
                self.unknown(kind, f"malformed answer: {exc}")

    def answered(self, kinds: Iterable[str]) -> None:
        """A unit producing ``kinds`` ran to its end: what it found (maybe nothing) is
        what exists, except where it recorded a kind unknown."""
        with self._lock:
            self._answered.update(kinds)

    def read_kinds(self) -> list[str]:
        """Kinds some unit answered and none left unknown anywhere."""
        with self._lock:
            unknown = {kind for kind, _ in self._unknown}
            return sorted(self._answered - unknown)

    def unknown_reasons(self, regions: Iterable[str] = ()) -> dict[tuple[str, str | None], str]:
        """(kind, region or None) -> why. A kind unknown in every region of ``regions``
        is reported once, account-wide."""
        every = set(regions)
        with self._lock:
            grouped: dict[str, dict[str | None, list[str]]] = {}
            for (kind, region), reasons in self._unknown.items():
                grouped.setdefault(kind, {})[region] = reasons
        result = {}
        for kind, by_region in sorted(grouped.items()):
            if None not in by_region and every and every <= set(by_region):
                by_region = {None: [r for rs in by_region.values() for r in rs]}
            for region, reasons in sorted(by_region.items(), key=lambda item: item[0] or ""):
                text = "; ".join(dict.fromkeys(reasons[:_MAX_REASONS]))
                if len(reasons) > _MAX_REASONS:
                    text += f"; and {len(reasons) - _MAX_REASONS} more"
                result[(kind, region)] = text
        return result

    # -- scheduling -----------------------------------------------------------------------

    def spawn(self, unit: Unit) -> None:
        """Queue follow-up work (per bucket, per API...) on the same bounded pool."""
        with self._lock:
            self._spawned.append(unit)

    def take_spawned(self) -> list[Unit]:
        with self._lock:
            spawned, self._spawned = self._spawned, []
            return spawned

    def finalise_with(
        self, function: Callable[[list[Resource]], None], kinds: tuple[str, ...]
    ) -> None:
        """Run ``function`` on all resources once every unit is done (cross-references);
        if it raises, ``kinds`` are marked unknown."""
        with self._lock:
            self._finalisers.append((function, kinds))

    def finalisers(self) -> list[tuple[Callable[[list[Resource]], None], tuple[str, ...]]]:
        with self._lock:
            return list(self._finalisers)


def make_client(session: Any, service: str, region: str, options: Options) -> Any:
    from botocore.config import Config

    config = Config(
        # total_max_attempts counts the first attempt; botocore's "max_attempts" key
        # counts retries only, which made "max_attempts: 2" mean three requests.
        retries={"mode": "adaptive", "total_max_attempts": options.max_attempts},
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        max_pool_connections=max(10, options.max_workers + 2),
        user_agent_extra="postureapp",
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if options.endpoint_url:
        kwargs["endpoint_url"] = options.endpoint_url
    client = session.client(service, **kwargs)
    if service == "s3control":
        client.meta.events.register("before-sign.s3-control", _strip_account_host_prefix)
    return client


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    """S3 Control puts the account id in front of the host (``{account}.s3-control...``).
    Against a local emulator given as an IP address or ``localhost`` (moto, LocalStack)
    that name cannot resolve, so drop the prefix there; real AWS endpoints are untouched."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    host = parts.hostname or ""
    first, _dot, rest = host.partition(".")
    if first.isdigit() and len(first) == 12 and _is_local(rest):
        netloc = parts.netloc.replace(host, rest, 1)
        request.url = urlunsplit(parts._replace(netloc=netloc))


def _is_local(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _action(client: Any, operation: str) -> str:
    """``get_bucket_acl`` on an S3 client -> ``s3:GetBucketAcl``."""
    api_name = client.meta.method_to_api_mapping.get(operation, operation)
    return action_name(client.meta.service_model, api_name)
