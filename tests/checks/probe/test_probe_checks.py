"""The probe checks as pure functions on hand-built ``EndpointProbe`` resources (the
attrs documented in ``collectors/probe/normalise.py``), near misses included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import postureapp.checks.probe  # noqa: F401  (registers the probe checks)
from postureapp.checks.registry import REGISTRY
from postureapp.collectors.probe import ABANDONED
from postureapp.collectors.probe.prober import blank_facts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, isoformat, k8s_uid

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SERVICE = Resource(
    k8s_uid("prod", "Service", "admin", "ops"), "kubernetes", "prod", "Service", "admin", "ops"
)
PATHS_DENIED = {
    "/admin": 401,
    "/console": 404,
    "/actuator": 403,
    "/actuator/env": 403,
    "/debug/pprof/": 404,
    "/server-status": 404,
    "/.env": 404,
    "/metrics": 401,
    "/api/v1/namespaces": 404,
}


def endpoint(scheme="https", host="shop.example.com", port=None, **attrs: Any) -> Resource:
    port = port or (443 if scheme == "https" else 80)
    base = {
        "url": f"{scheme}://{host}:{port}/",
        "scheme": scheme,
        "host": host,
        "port": port,
        "root": "/",
        "exposed_by": [SERVICE.uid],
        "skipped": None,
        "reachable": True,
        "error": None,
        "status": 200,
        "redirect": None,
        "hsts": "max-age=31536000" if scheme == "https" else None,
        "tls": {
            "version": "TLSv1.3",
            "verified": True,
            "verify_error": None,
            "error": None,
            "subject": f"CN={host}",
            "issuer": "CN=R3",
            "sans": [host],
            "not_after": isoformat(NOW + timedelta(days=200)),
            "self_signed": False,
            "hostname_matches": True,
        }
        if scheme == "https"
        else None,
        "paths": dict(PATHS_DENIED),
        "catch_all": False,
        "banners": {"server": "nginx", "x_powered_by": None},
        "rate_limit": {},
        "incomplete": None,
    }
    base.update(attrs)
    return Resource(
        f"probe://{scheme}/{host}:{port}", "probe", "probe", "EndpointProbe", base["url"], "", base
    )


def run(check_id: str, *resources: Resource, warning: int = 30) -> dict[str, Any]:
    inv = Inventory([SERVICE, *resources], settings={"cert_warning_days": warning}, now=NOW)
    return {r.resource.uid: r for r in REGISTRY.checks[check_id].function(inv)}


def tls(**changes: Any) -> dict[str, Any]:
    data = dict(endpoint().attrs["tls"])
    data.update(changes)
    return data


def test_admin_path_open_fails_critical_and_names_the_service():
    probe = endpoint(paths={**PATHS_DENIED, "/admin": 200})
    (result,) = run("probe-admin-path-open", probe).values()
    assert result.status is Status.FAIL
    assert REGISTRY.checks["probe-admin-path-open"].severity is Severity.CRITICAL
    assert "/admin" in result.detail and "Service ops/admin" in result.detail
    assert result.evidence["exposed_by"] == [SERVICE.uid]
    assert result.evidence["published_by"] == ["Service ops/admin"]


def test_401_403_and_redirects_are_not_open():
    probe = endpoint(paths={**PATHS_DENIED, "/admin": 302})
    assert run("probe-admin-path-open", probe)[probe.uid].status is Status.PASS
    assert run("probe-debug-endpoint-exposed", probe)[probe.uid].status is Status.PASS


def test_a_catch_all_200_is_unknown_not_fail():
    probe = endpoint(paths={**PATHS_DENIED, "/admin": 200}, catch_all=True)
    result = run("probe-admin-path-open", probe)[probe.uid]
    assert result.status is Status.UNKNOWN and "any path" in result.detail


def test_a_path_without_answer_is_unknown():
    probe = endpoint(paths={**PATHS_DENIED, "/console": None})
    assert run("probe-admin-path-open", probe)[probe.uid].status is Status.UNKNOWN


def test_the_kubernetes_api_answering_anonymously_is_named():
    probe = endpoint(paths={**PATHS_DENIED, "/api/v1/namespaces": 200})
    result = run("probe-debug-endpoint-exposed", probe)[probe.uid]
    assert (
        result.status is Status.FAIL and result.title == "Kubernetes API answers anonymous requests"
    )
    env = endpoint(host="b.example.com", paths={**PATHS_DENIED, "/actuator/env": 200})
    other = run("probe-debug-endpoint-exposed", env)[env.uid]
    assert other.status is Status.FAIL and other.title is None


@pytest.mark.parametrize(
    ("days", "status", "severity"),
    [
        (-3, Status.FAIL, None),
        (10, Status.FAIL, Severity.MEDIUM),
        (30, Status.FAIL, Severity.MEDIUM),
        (31, Status.PASS, None),
    ],
)
def test_certificate_expiry_uses_the_warning_threshold(days, status, severity):
    probe = endpoint(tls=tls(not_after=isoformat(NOW + timedelta(days=days))))
    result = run("probe-tls-cert-expiry", probe)[probe.uid]
    assert (result.status, result.severity) == (status, severity)
    assert result.evidence["days_left"] == days


def test_the_warning_threshold_comes_from_settings():
    probe = endpoint(tls=tls(not_after=isoformat(NOW + timedelta(days=40))))
    assert run("probe-tls-cert-expiry", probe, warning=45)[probe.uid].status is Status.FAIL


def test_verification_failures_fail_and_say_why():
    mismatch = endpoint(
        tls=tls(
            verified=False,
            verify_error="Hostname mismatch",
            sans=["other.example"],
            hostname_matches=False,
        )
    )
    result = run("probe-tls-untrusted", mismatch)[mismatch.uid]
    assert result.status is Status.FAIL and "other.example" in result.detail
    ok = endpoint(host="ok.example.com")
    assert run("probe-tls-untrusted", ok)[ok.uid].status is Status.PASS
    broken = endpoint(host="x.example.com", tls=tls(verified=False, error="handshake failure"))
    assert run("probe-tls-untrusted", broken)[broken.uid].status is Status.UNKNOWN


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("TLSv1", Status.FAIL),
        ("TLSv1.1", Status.FAIL),
        ("TLSv1.2", Status.PASS),
        (None, Status.UNKNOWN),
    ],
)
def test_old_tls_fails(version, status):
    probe = endpoint(tls=tls(version=version))
    assert run("probe-tls-weak-protocol", probe)[probe.uid].status is status


def test_cleartext_without_any_https_fails_no_tls_but_not_the_redirect_check():
    plain = endpoint("http", host="blog.example.com")
    assert run("probe-no-tls", plain)[plain.uid].status is Status.FAIL
    assert run("probe-no-https-redirect", plain) == {}


def test_cleartext_beside_https_fails_the_redirect_check_only():
    plain = endpoint("http")
    secure = endpoint("https")
    assert run("probe-no-tls", plain, secure)[plain.uid].status is Status.PASS
    assert run("probe-no-https-redirect", plain, secure)[plain.uid].status is Status.FAIL
    redirecting = endpoint(
        "http", redirect={"status": 301, "location": "https://shop.example.com/", "to_https": True}
    )
    assert (
        run("probe-no-https-redirect", redirecting, secure)[redirecting.uid].status is Status.PASS
    )


def test_https_of_another_publisher_on_the_same_address_does_not_count():
    plain = endpoint("http", host="203.0.113.5")
    other = endpoint("https", host="203.0.113.5", exposed_by=["k8s://prod/x/Service/other"])
    assert run("probe-no-tls", plain, other)[plain.uid].status is Status.FAIL


@pytest.mark.parametrize(
    ("hsts", "status"),
    [(None, Status.FAIL), ("max-age=0", Status.FAIL), ("max-age=63072000; preload", Status.PASS)],
)
def test_hsts(hsts, status):
    probe = endpoint(hsts=hsts)
    assert run("probe-hsts-missing", probe)[probe.uid].status is status


@pytest.mark.parametrize(
    ("banners", "status"),
    [
        ({"server": "nginx", "x_powered_by": None}, Status.PASS),
        ({"server": "nginx/1.18.0", "x_powered_by": None}, Status.FAIL),
        ({"server": None, "x_powered_by": "PHP"}, Status.FAIL),
    ],
)
def test_banners(banners, status):
    probe = endpoint(banners=banners)
    assert run("probe-banner-disclosure", probe)[probe.uid].status is status


@pytest.mark.parametrize(
    "attrs",
    [
        {"skipped": "10.0.0.1 resolves to private address", "reachable": None, "paths": {}},
        {"reachable": False, "error": "ReadTimeout", "paths": {}, "tls": None},
    ],
)
def test_unprobed_or_silent_endpoints_are_unknown_everywhere(attrs):
    probe = endpoint(**attrs)
    plain = endpoint("http", **attrs)
    for check_id in [c for c in REGISTRY.checks if c.startswith("probe-")]:
        for result in run(check_id, probe, plain).values():
            assert result.status is Status.UNKNOWN, check_id


@pytest.mark.parametrize(
    ("attrs", "why"),
    [
        # abandoned mid-probe when the budget ran out: nothing recorded but that
        ({**blank_facts(), "incomplete": ABANDONED}, ABANDONED),
        # the prober itself failed on this endpoint
        (
            {
                **blank_facts(),
                "error": "the probe failed: ValueError: bad",
                "incomplete": "the probe stopped on an error",
            },
            "the probe failed: ValueError: bad",
        ),
    ],
)
def test_endpoints_whose_probe_did_not_finish_are_unknown_and_say_why(attrs, why):
    probe = endpoint(**attrs)
    plain = endpoint("http", **attrs)
    for check_id in [c for c in REGISTRY.checks if c.startswith("probe-")]:
        for result in run(check_id, probe, plain).values():
            assert result.status is Status.UNKNOWN, check_id
            assert result.detail == f"probe did not finish: {why}", check_id


def test_every_probe_check_is_well_formed():
    metas = [m for m in REGISTRY.checks.values() if m.provider == "probe"]
    assert len(metas) == 9
    for meta in metas:
        assert meta.id.startswith("probe-") and meta.view.value == "endpoints"
        assert meta.requires == ("EndpointProbe",) and meta.frameworks
