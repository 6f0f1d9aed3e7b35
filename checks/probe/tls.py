"""Transport checks: certificate expiry and trust, protocol version, cleartext HTTP,
the redirect to HTTPS and HSTS, as an anonymous client sees them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from postureapp.checks.probe._common import (
    CRYPTO,
    OLD_PROTOCOLS,
    REQUIRES,
    not_seen,
    probe_evidence,
    probes_of,
    published_by,
)
from postureapp.checks.registry import Result, check
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View, parse_time


def _tls_probes(inv: Inventory) -> Iterator[tuple[Resource, dict[str, Any]] | Result]:
    """Each HTTPS probe with its TLS facts, or the unknown result for one that has none."""
    for probe in probes_of(inv):
        if probe.attrs.get("scheme") != "https":
            continue
        tls = probe.attrs.get("tls") or None
        if probe.attrs.get("skipped") or tls is None:
            yield not_seen(inv, probe) or Result(
                probe, Status.UNKNOWN, detail="no TLS details recorded"
            )
            continue
        yield probe, tls


@check(
    id="probe-tls-cert-expiry",
    title="Certificate expired or expiring soon",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider="probe",
    requires=REQUIRES,
    remediation="Renew the certificate and automate renewal (cert-manager, ACM); alert well "
    "before the warning threshold.",
    frameworks=CRYPTO,
    controls=("encryption-in-transit",),
)
def cert_expiry(inv: Inventory) -> Iterator[Result]:
    """The certificate served: expired (high) or expiring within
    ``thresholds.cert_warning_days`` (medium)."""
    warning = int(inv.setting("cert_warning_days", 30))
    for seen in _tls_probes(inv):
        if isinstance(seen, Result):
            yield seen
            continue
        probe, tls = seen
        not_after = parse_time(tls.get("not_after"))
        if not_after is None:
            yield Result(
                probe,
                Status.UNKNOWN,
                detail=f"no certificate could be read: {tls.get('error') or 'handshake failed'}",
                evidence=probe_evidence(inv, probe),
            )
            continue
        days = _days(not_after, inv.now)
        evidence = probe_evidence(
            inv, probe, not_after=tls["not_after"], days_left=days, subject=tls.get("subject")
        )
        if days < 0:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} serves a certificate that expired {-days} days "
                f"ago ({tls['not_after']}){published_by(inv, probe)}",
                evidence=evidence,
            )
        elif days <= warning:
            yield Result(
                probe,
                Status.FAIL,
                severity=Severity.MEDIUM,
                title="Certificate expiring soon",
                detail=f"{probe.attrs['url']}'s certificate expires in {days} days "
                f"({tls['not_after']}; warning at {warning}){published_by(inv, probe)}",
                evidence=evidence,
            )
        else:
            yield Result(probe, Status.PASS, detail=f"expires in {days} days", evidence=evidence)


def _days(moment: datetime, now: datetime) -> int:
    return int((moment - now).total_seconds() // 86400)


@check(
    id="probe-tls-untrusted",
    title="Certificate fails verification (self-signed, untrusted or wrong name)",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider="probe",
    requires=REQUIRES,
    remediation="Serve a certificate from a publicly trusted CA (or the CA your clients are "
    "configured with) whose SANs name the host; clients that accept it anyway can be "
    "intercepted.",
    frameworks=CRYPTO,
    controls=("encryption-in-transit",),
)
def untrusted(inv: Inventory) -> Iterator[Result]:
    """TLS verification (chain and hostname) failed against the trusted roots."""
    for seen in _tls_probes(inv):
        if isinstance(seen, Result):
            yield seen
            continue
        probe, tls = seen
        facts = {
            key: tls.get(key)
            for key in ("verify_error", "subject", "issuer", "sans", "self_signed")
        }
        facts["hostname_matches"] = tls.get("hostname_matches")
        evidence = probe_evidence(inv, probe, **facts)
        if tls.get("verified") is True:
            yield Result(probe, Status.PASS, detail="chain and name verified", evidence=evidence)
        elif tls.get("verify_error"):
            why = [tls["verify_error"]]
            if tls.get("self_signed"):
                why.append("self-signed")
            if tls.get("hostname_matches") is False:
                why.append(
                    f"names {', '.join(tls.get('sans') or []) or 'no SAN'}, "
                    f"not {probe.attrs.get('host')}"
                )
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']}: certificate verification failed "
                f"({'; '.join(why)}){published_by(inv, probe)}",
                evidence=evidence,
            )
        else:
            yield Result(
                probe,
                Status.UNKNOWN,
                detail=f"the TLS handshake failed: {tls.get('error') or 'unknown error'}",
                evidence=evidence,
            )


@check(
    id="probe-tls-weak-protocol",
    title="TLS below 1.2 negotiated",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider="probe",
    requires=REQUIRES,
    remediation="Allow TLS 1.2 and 1.3 only (ELB: an ELBSecurityPolicy-TLS13-1-2-* policy; "
    "ingress-nginx: ssl-protocols).",
    frameworks=CRYPTO,
    references=("https://datatracker.ietf.org/doc/html/rfc8996",),
    controls=("encryption-in-transit",),
)
def weak_protocol(inv: Inventory) -> Iterator[Result]:
    """The protocol the endpoint negotiated with a modern client is older than TLS 1.2."""
    for seen in _tls_probes(inv):
        if isinstance(seen, Result):
            yield seen
            continue
        probe, tls = seen
        version = tls.get("version")
        evidence = probe_evidence(inv, probe, version=version)
        if version is None:
            yield Result(probe, Status.UNKNOWN, detail="no TLS version known", evidence=evidence)
        elif version in OLD_PROTOCOLS:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} negotiated {version}{published_by(inv, probe)}",
                evidence=evidence,
            )
        else:
            yield Result(probe, Status.PASS, detail=f"negotiated {version}", evidence=evidence)


def _https_sibling(inv: Inventory, probe: Resource) -> str | None:
    """Whether the same host, published by the same resources, answers over HTTPS:
    "answered", "unseen" (probed but no answer, or not probed) or None (no such
    endpoint). Several load balancers can share an address (a NAT, the demo's
    loopback); only the same publisher's HTTPS counts as this endpoint's."""
    host = str(probe.attrs.get("host", "")).lower()
    publishers = set(probe.attrs.get("exposed_by") or [])
    found = None
    for other in probes_of(inv):
        attrs = other.attrs
        if attrs.get("scheme") != "https" or str(attrs.get("host", "")).lower() != host:
            continue
        others = set(attrs.get("exposed_by") or [])
        if publishers != others and not (publishers & others):
            continue
        if attrs.get("reachable"):
            return "answered"
        found = "unseen"
    return found


def _cleartext(inv: Inventory) -> Iterator[tuple[Resource, Result | None, bool]]:
    for probe in probes_of(inv):
        if probe.attrs.get("scheme") != "http":
            continue
        unseen = not_seen(inv, probe)
        redirect = probe.attrs.get("redirect") or {}
        yield probe, unseen, bool(redirect.get("to_https"))


@check(
    id="probe-no-tls",
    title="Endpoint served in cleartext, no HTTPS at all",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider="probe",
    requires=REQUIRES,
    remediation="Terminate TLS on the load balancer or ingress (ACM, cert-manager) and "
    "redirect plain HTTP to HTTPS.",
    frameworks=CRYPTO,
    controls=("encryption-in-transit",),
)
def no_tls(inv: Inventory) -> Iterator[Result]:
    """A plain-HTTP endpoint answers without redirecting to HTTPS, and its host has no
    HTTPS endpoint that answered."""
    for probe, unseen, to_https in _cleartext(inv):
        sibling = _https_sibling(inv, probe)
        evidence = probe_evidence(inv, probe, status=probe.attrs.get("status"))
        if unseen:
            yield unseen
        elif to_https or sibling == "answered":
            yield Result(probe, Status.PASS, detail="HTTPS is offered", evidence=evidence)
        elif sibling == "unseen":
            yield Result(
                probe,
                Status.UNKNOWN,
                detail="the host's HTTPS endpoint did not answer",
                evidence=evidence,
            )
        else:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} answers {probe.attrs.get('status')} in "
                f"cleartext and no HTTPS endpoint of {probe.attrs.get('host')} answered"
                f"{published_by(inv, probe)}",
                evidence=evidence,
            )


@check(
    id="probe-no-https-redirect",
    title="Plain HTTP does not redirect to HTTPS",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider="probe",
    requires=REQUIRES,
    remediation="Answer every plain-HTTP request with a redirect to HTTPS (ALB: a redirect "
    "action on the HTTP listener; ingress-nginx: ssl-redirect) and send HSTS.",
    frameworks=CRYPTO,
    controls=("encryption-in-transit",),
)
def no_https_redirect(inv: Inventory) -> Iterator[Result]:
    """A host serves HTTPS, but its plain-HTTP endpoint answers instead of redirecting,
    so a downgraded or careless client talks in cleartext."""
    for probe, unseen, to_https in _cleartext(inv):
        if _https_sibling(inv, probe) != "answered":
            continue  # no HTTPS to redirect to: probe-no-tls judges it
        redirect = probe.attrs.get("redirect")
        evidence = probe_evidence(inv, probe, status=probe.attrs.get("status"), redirect=redirect)
        if unseen:
            yield unseen
        elif to_https:
            yield Result(probe, Status.PASS, detail="redirects to HTTPS", evidence=evidence)
        else:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} answers {probe.attrs.get('status')} instead of "
                f"redirecting to HTTPS{published_by(inv, probe)}",
                evidence=evidence,
            )


_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@check(
    id="probe-hsts-missing",
    title="No HSTS on an HTTPS endpoint",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider="probe",
    requires=REQUIRES,
    remediation="Send Strict-Transport-Security with a max-age of at least six months "
    "(max-age=15768000) on every HTTPS response.",
    frameworks=CRYPTO,
    references=("https://datatracker.ietf.org/doc/html/rfc6797",),
    controls=("encryption-in-transit",),
)
def hsts_missing(inv: Inventory) -> Iterator[Result]:
    """An HTTPS endpoint answered without a Strict-Transport-Security max-age above 0."""
    for probe in probes_of(inv):
        if probe.attrs.get("scheme") != "https":
            continue
        unseen = not_seen(inv, probe)
        if unseen:
            yield unseen
            continue
        value = probe.attrs.get("hsts")
        evidence = probe_evidence(inv, probe, hsts=value)
        match = _MAX_AGE.search(value or "")
        if match and int(match.group(1)) > 0:
            yield Result(probe, Status.PASS, detail=f"HSTS: {value}", evidence=evidence)
        else:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} sends "
                + ("no Strict-Transport-Security header" if value is None else "HSTS max-age=0")
                + published_by(inv, probe),
                evidence=evidence,
            )


_VERSION = re.compile(r"\d+\.\d+")
