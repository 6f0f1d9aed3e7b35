"""The prober: what an anonymous client on the internet sees of one endpoint.

Only GET requests, no body read, no redirect followed, no credential ever sent, a
User-Agent naming the tool, a timeout on every request and a deadline for the whole
probe. TLS is verified against the system's (certifi's) roots plus an optional CA
bundle; a verification failure is recorded, then one bare handshake without
verification reads the certificate so the finding can say what is wrong with it.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import secrets
import socket
import ssl
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import certifi
import httpx
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from collectors.probe.discovery import Endpoint
from collectors.probe.guard import check_host

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
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
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


def _handshake(address: str, port: int, host: str, timeout: float) -> tuple[str | None, bytes]:
    """A bare TLS handshake without verification: the protocol and the certificate."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        server_name = None if _is_ip(host) else host
        with _lenient_context().wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.version(), tls.getpeercert(binary_form=True) or b""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Session:
    """Requests to one endpoint, pinned to the address the guard checked."""

    def __init__(self, endpoint: Endpoint, address: str, settings: ProbeSettings, deadline: float):
        self.endpoint = endpoint
        self.deadline = deadline
        self.settings = settings
        self.address = address
        host = f"[{address}]" if ":" in address else address
        self.base = f"{endpoint.scheme}://{host}:{endpoint.port}"
        default_port = 443 if endpoint.scheme == "https" else 80
        name = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        self.host_header = name if endpoint.port == default_port else f"{name}:{endpoint.port}"
        self.verify: ssl.SSLContext | bool = verify_context(settings.ca_bundle)
        self.client = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(
            verify=self.verify,
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
        if time.monotonic() > self.deadline:
            raise BudgetExhausted
        extensions = {}
        if self.endpoint.scheme == "https" and not _is_ip(self.endpoint.host):
            extensions["sni_hostname"] = self.endpoint.host
        request = self.client.build_request("GET", self.base + path, extensions=extensions)
        response = self.client.send(request, stream=True)
        version = None
        stream = response.extensions.get("network_stream")
        if stream is not None:
            ssl_object = stream.get_extra_info("ssl_object")
            version = ssl_object.version() if ssl_object is not None else None
        response.close()  # the body is never read
        return response, version

    def close(self) -> None:
        self.client.close()


def _describe(error: BaseException) -> str:
    cause = _ssl_cause(error)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {cause.verify_message}"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:MAX_HEADER]


def probe(endpoint: Endpoint, settings: ProbeSettings, deadline: float) -> dict[str, Any]:
    """Everything the attrs contract (``collectors.probe.normalise``) records."""
    facts: dict[str, Any] = {
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
    verdict = check_host(endpoint.host, endpoint.port, allow_private=settings.allow_private)
    facts["addresses"] = list(verdict.addresses)
    if verdict.connect_to is None:
        facts["skipped"] = verdict.refused
        return facts
    facts["address"] = verdict.connect_to
    session = _Session(endpoint, verdict.connect_to, settings, deadline)
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
            session.address, endpoint.port, endpoint.host, session.settings.timeout
        )
    except (OSError, ssl.SSLError) as error:
        tls["error"] = tls["error"] or _describe(error)
        return
    tls["version"] = tls["version"] or version
    if der:
        tls.update(certificate_facts(der, endpoint.host.strip("[]")))


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
