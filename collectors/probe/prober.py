"""The prober: what an anonymous client on the internet sees of one endpoint.

Only GET requests, no body read, no redirect followed, no credential ever sent (no
cookie either: the client's jar refuses every ``Set-Cookie``, so the admin paths are
asked anonymously even when ``/`` hands out a session), a User-Agent naming the tool,
a timeout on every request and a deadline for the whole probe. httpx's timeouts are
per read, so a server trickling a byte at a time never trips them: an :class:`Abort`
handed in by the caller shuts down every socket the probe opened, which ends a request
at once wherever it is blocked (``postureapp.collectors.probe.probe_endpoints`` does so at the
budget's end).

TLS is verified against the system's (certifi's) roots plus an optional CA bundle; a
verification failure is recorded, then one bare handshake without verification reads
the certificate so the finding can say what is wrong with it. A certificate that cannot
be parsed is recorded as a TLS error, and anything else that goes wrong while probing
an endpoint is recorded on that endpoint (``error``): :func:`probe` never raises.
"""

from __future__ import annotations

import contextlib
import functools
import http.cookiejar
import ipaddress
import secrets
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import certifi
import httpcore
import httpx
from cryptography import x509

from postureapp.collectors.probe.discovery import Endpoint
from postureapp.collectors.probe.guard import check_host

USER_AGENT = "postureapp-probe/0.1 (+https://github.com/postureapp; security posture check)"
ADMIN_PATHS = ("/admin", "/console", "/actuator")
DEBUG_PATHS = ("/actuator/env", "/debug/pprof/", "/server-status", "/.env", "/metrics")
KUBE_API_PATH = "/api/v1/namespaces"
PROBED_PATHS = (*ADMIN_PATHS, *DEBUG_PATHS, KUBE_API_PATH)
RATE_LIMIT_PREFIXES = ("x-ratelimit", "ratelimit", "x-rate-limit")
MAX_HEADER = 200  # header values come from the outside: keep them short


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    timeout: float = 5.0
    allow_private: bool = False
    ca_bundle: str | None = None


class BudgetExhausted(Exception):
    pass


class Abort:
    """Stops one endpoint's probe from another thread.

    The probe registers every connection it opens; :meth:`abort` shuts them down, which
    wakes a read blocked in another thread at once (closing would not: a blocked
    ``poll`` keeps waiting for the next trickled byte). Shutdown goes through a
    duplicate of each socket because TLS wrapping detaches the original's descriptor
    before the handshake; the duplicate refers to the same connection, so it is
    released as soon as the connection closes, or the peer would never see it close.
    """

    def __init__(self) -> None:
        # One lock for shutting down and releasing: a descriptor closed by one while
        # the other shuts it down could be reused by an unrelated socket in between.
        self._lock = threading.Lock()
        self._handles: list[socket.socket] = []
        self.aborted = False

    def watch(self, sock: socket.socket) -> socket.socket:
        """Register a connection; returns the handle to :meth:`release` when it closes."""
        handle = sock.dup()
        with self._lock:
            if not self.aborted:
                self._handles.append(handle)
                return handle
            _shut(handle)
            handle.close()
        raise BudgetExhausted

    def release(self, handle: socket.socket) -> None:
        with self._lock:
            if handle in self._handles:
                self._handles.remove(handle)
            handle.close()

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            for handle in self._handles:
                _shut(handle)

    def close(self) -> None:
        with self._lock:
            handles, self._handles = self._handles, []
            for handle in handles:
                handle.close()


def _shut(handle: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the peer
        handle.shutdown(socket.SHUT_RDWR)


class _WatchedStream(httpcore.NetworkStream):
    """httpcore's stream, its connection registered with an :class:`Abort` until closed."""

    def __init__(self, stream: httpcore.NetworkStream, abort: Abort, handle: socket.socket):
        self._stream = stream
        self._abort = abort
        self._handle = handle

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._abort.release(self._handle)
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # The same connection underneath: the handle stays valid through the handshake.
        tls = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _WatchedStream(tls, self._abort, self._handle)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _WatchedBackend(httpcore.SyncBackend):
    """httpcore's own socket backend, each connection registered with an :class:`Abort`."""

    def __init__(self, abort: Abort) -> None:
        self.abort = abort

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        if self.abort.aborted:
            raise BudgetExhausted
        stream = super().connect_tcp(*args, **kwargs)
        try:
            handle = self.abort.watch(stream.get_extra_info("socket"))
        except BudgetExhausted:
            stream.close()
            raise
        return _WatchedStream(stream, self.abort, handle)


# httpcore's exceptions as httpx names them, most specific first: the prober catches
# httpx.HTTPError and reads the chained cause (an ssl error) from ``__cause__``.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        for source, target in _HTTPX_ERRORS:
            if isinstance(error, source):
                raise target(str(error), request=request) from error
        raise


class _Body(httpx.SyncByteStream):
    """httpcore's response body as httpx reads it (never read here, only closed)."""

    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


class _Transport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool whose sockets an :class:`Abort` can shut:
    httpx's own transport takes no network backend, httpcore's public API does."""

    def __init__(self, verify: ssl.SSLContext, abort: Abort) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify, network_backend=_WatchedBackend(abort)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors(request):
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Stores and returns nothing: a cookie from ``/`` must not make ``/admin``'s
    request any less anonymous than an attacker's first one."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _short(value: str | None) -> str | None:
    return None if value is None else value[:MAX_HEADER]


@functools.lru_cache(maxsize=8)
def verify_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Verification on, against certifi's roots plus the optional bundle. Built once
    and shared (contexts are thread-safe): loading the roots costs more than a probe."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


@functools.lru_cache(maxsize=1)
def _lenient_context() -> ssl.SSLContext:
    # Only to *read* what the server presents after verification failed: old
    # protocols allowed so that "TLS 1.0" can be reported rather than "handshake failed".
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ValueError, ssl.SSLError), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _name_text(name: x509.Name) -> str:
    return name.rfc4514_string()


def certificate_facts(der: bytes, host: str, now: datetime | None = None) -> dict[str, Any]:
    """Subject, SANs, issuer, expiry and self-signedness of a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        sans = [str(v) for v in ext.value.get_values_for_type(x509.DNSName)]
        sans += [str(v) for v in ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        sans = []
    not_after = cert.not_valid_after_utc
    moment = now or datetime.now(UTC)
    return {
        "subject": _name_text(cert.subject),
        "issuer": _name_text(cert.issuer),
        "sans": sans,
        "not_before": cert.not_valid_before_utc.isoformat().replace("+00:00", "Z"),
        "not_after": not_after.isoformat().replace("+00:00", "Z"),
        "days_left": (not_after - moment).days,
        "self_signed": cert.subject == cert.issuer,
        "hostname_matches": hostname_matches(host, sans),
    }


def hostname_matches(host: str, sans: list[str]) -> bool:
    """RFC 6125 matching of ``host`` against SANs: exact, or one leftmost ``*`` label."""
    host = host.lower().rstrip(".")
    for san in sans:
        san = san.lower().rstrip(".")
        if san == host:
            return True
        if san.startswith("*.") and "." in host and host.split(".", 1)[1] == san[2:]:
            return True
    return False


def _handshake(
    address: str, port: int, host: str, timeout: float, abort: Abort
) -> tuple[str | None, bytes]:
    """A bare TLS handshake without verification: the protocol and the certificate."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        handle = abort.watch(raw)
        try:
            server_name = None if _is_ip(host) else host
            with _lenient_context().wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.version(), tls.getpeercert(binary_form=True) or b""
        finally:
            abort.release(handle)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Session:
    """Requests to one endpoint, pinned to the address the guard checked."""

    def __init__(
        self,
        endpoint: Endpoint,
        address: str,
        settings: ProbeSettings,
        deadline: float,
        abort: Abort,
    ):
        self.endpoint = endpoint
        self.deadline = deadline
        self.abort = abort
        self.settings = settings
        self.address = address
        host = f"[{address}]" if ":" in address else address
        self.base = f"{endpoint.scheme}://{host}:{endpoint.port}"
        default_port = 443 if endpoint.scheme == "https" else 80
        name = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        self.host_header = name if endpoint.port == default_port else f"{name}:{endpoint.port}"
        self.verify: ssl.SSLContext = verify_context(settings.ca_bundle)
        self.client = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(
            transport=_Transport(self.verify, self.abort),
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            timeout=self.settings.timeout,
            follow_redirects=False,
            trust_env=False,  # never through a proxy from the environment
            headers={"User-Agent": USER_AGENT, "Host": self.host_header},
        )

    def unverified(self) -> None:
        self.client.close()
        self.verify = _lenient_context()
        self.client = self._client()

    def get(self, path: str) -> tuple[httpx.Response, str | None]:
        """GET ``path``, headers only; returns the response and the TLS version."""
        if self.abort.aborted or time.monotonic() > self.deadline:
            raise BudgetExhausted
        extensions = {}
        if self.endpoint.scheme == "https" and not _is_ip(self.endpoint.host):
            extensions["sni_hostname"] = self.endpoint.host
        request = self.client.build_request("GET", self.base + path, extensions=extensions)
        try:
            response = self.client.send(request, stream=True)
        except httpx.HTTPError as error:
            if self.abort.aborted:  # our shutdown, not the server's doing
                raise BudgetExhausted from error
            raise
        version = None
        stream = response.extensions.get("network_stream")
        if stream is not None:
            ssl_object = stream.get_extra_info("ssl_object")
            version = ssl_object.version() if ssl_object is not None else None
        response.close()  # the body is never read
        return response, version

    def close(self) -> None:
        self.client.close()
        self.abort.close()


def _describe(error: BaseException) -> str:
    cause = _ssl_cause(error)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {cause.verify_message}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:MAX_HEADER]


def probe(
    endpoint: Endpoint, settings: ProbeSettings, deadline: float, abort: Abort | None = None
) -> dict[str, Any]:
    """Everything the attrs contract (``postureapp.collectors.probe.normalise``) records; never
    raises. ``deadline`` is checked between requests; only ``abort`` ends one midway."""
    try:
        return _probe(endpoint, settings, deadline, abort or Abort())
    except Exception as error:  # one hostile endpoint must not cost the others theirs
        facts = blank_facts()
        facts["error"] = f"the probe failed: {_describe(error)}"
        facts["incomplete"] = "the probe stopped on an error"
        return facts


def blank_facts() -> dict[str, Any]:
    """The facts of an endpoint nothing is known about (every check: unknown)."""
    return {
        "skipped": None,
        "addresses": [],
        "address": None,
        "reachable": None,
        "error": None,
        "status": None,
        "redirect": None,
        "hsts": None,
        "tls": None,
        "paths": {},
        "catch_all": None,
        "banners": {"server": None, "x_powered_by": None},
        "rate_limit": {},
        "incomplete": None,
    }


def _probe(
    endpoint: Endpoint, settings: ProbeSettings, deadline: float, abort: Abort
) -> dict[str, Any]:
    facts = blank_facts()
    verdict = check_host(endpoint.host, endpoint.port, allow_private=settings.allow_private)
    facts["addresses"] = list(verdict.addresses)
    if verdict.connect_to is None:
        facts["skipped"] = verdict.refused
        return facts
    facts["address"] = verdict.connect_to
    session = _Session(endpoint, verdict.connect_to, settings, deadline, abort)
    try:
        _probe_root(session, facts)
        if facts["reachable"]:
            _probe_paths(session, facts)
    except BudgetExhausted:
        facts["incomplete"] = "the probe's time budget ran out"
    finally:
        session.close()
    return facts


def _probe_root(session: _Session, facts: dict[str, Any]) -> None:
    endpoint = session.endpoint
    tls: dict[str, Any] | None = None
    if endpoint.scheme == "https":
        tls = {"version": None, "verified": None, "verify_error": None, "error": None}
        facts["tls"] = tls
    try:
        response, version = session.get(endpoint.root)
        if tls is not None:
            tls.update(verified=True, version=version)
    except httpx.HTTPError as error:
        cause = _ssl_cause(error)
        if tls is None or cause is None:
            facts.update(reachable=False, error=_describe(error))
            return
        if isinstance(cause, ssl.SSLCertVerificationError):
            tls["verify_error"] = str(cause.verify_message or cause)[:MAX_HEADER]
        else:
            tls["error"] = _describe(error)
        tls["verified"] = False
        session.unverified()
        try:
            response, version = session.get(endpoint.root)
            tls["version"] = version
        except httpx.HTTPError as again:
            facts.update(reachable=False, error=_describe(again))
            _read_certificate(session, tls)
            return
    if tls is not None:
        _read_certificate(session, tls)
    facts["reachable"] = True
    facts["status"] = response.status_code
    headers = response.headers
    facts["banners"] = {
        "server": _short(headers.get("server")),
        "x_powered_by": _short(headers.get("x-powered-by")),
    }
    facts["rate_limit"] = {
        name.lower(): _short(value)
        for name, value in headers.items()
        if name.lower().startswith(RATE_LIMIT_PREFIXES) or name.lower() == "retry-after"
    }
    if endpoint.scheme == "https":
        facts["hsts"] = _short(headers.get("strict-transport-security"))
    if response.is_redirect:
        location = headers.get("location", "")
        target = httpx.URL(endpoint.url).join(location) if location else None
        facts["redirect"] = {
            "status": response.status_code,
            "location": _short(location),
            "to_https": bool(target and target.scheme == "https"),
            "same_host": bool(target and target.host.lower() == endpoint.host.lower()),
        }


def _read_certificate(session: _Session, tls: dict[str, Any]) -> None:
    endpoint = session.endpoint
    try:
        version, der = _handshake(
            session.address,
            endpoint.port,
            endpoint.host,
            session.settings.timeout,
            session.abort,
        )
    except (OSError, ssl.SSLError) as error:
        if session.abort.aborted:
            raise BudgetExhausted from error
        tls["error"] = tls["error"] or _describe(error)
        return
    tls["version"] = tls["version"] or version
    if not der:
        return
    try:
        read = certificate_facts(der, endpoint.host.strip("[]"))
    except Exception as error:  # the server chose these bytes; cryptography raises
        # ValueError and its own types (DuplicateExtension...) on malformed DER
        tls["error"] = tls["error"] or f"unreadable certificate: {_describe(error)}"
        return
    tls.update(read)


def _probe_paths(session: _Session, facts: dict[str, Any]) -> None:
    # A path nobody would serve: when it answers 200 too, every 200 below is suspect
    # (a single-page app or a catch-all route), and the checks say so.
    canary = f"/posture-probe-{secrets.token_hex(6)}"
    for path in (canary, *PROBED_PATHS):
        try:
            response, _ = session.get(path)
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        if path == canary:
            facts["catch_all"] = status == 200
        else:
            facts["paths"][path] = status
