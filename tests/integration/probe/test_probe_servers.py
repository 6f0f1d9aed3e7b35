"""The probe against real local servers: what it records, and what the checks make
of it. Every server is on 127.0.0.1, so private addresses are allowed explicitly."""

from __future__ import annotations

import time

import postureapp.checks  # noqa: F401  (registers the probe checks)
from postureapp.collectors.probe import ProbeCollector
from postureapp.collectors.probe.discovery import parse_probe_url
from postureapp.collectors.probe.prober import USER_AGENT, ProbeSettings, probe
from postureapp.engine import Engine
from postureapp.model import RunStatus, Status, Target
from tests.integration.probe.conftest import HOSTILE_POWERED, HOSTILE_SERVER


def _facts(estate, name, host="127.0.0.1", timeout=2.0):
    settings = ProbeSettings(timeout=timeout, allow_private=True, ca_bundle=str(estate.ca_bundle))
    return probe(parse_probe_url(estate.url(name, host)), settings, time.monotonic() + 30)


def _poll(estate, *names, host="127.0.0.1", **options):
    target = Target(
        "probe",
        "probe",
        {
            "urls": [estate.url(name, host) for name in names],
            "allow_private": True,
            "ca_bundle": str(estate.ca_bundle),
            "timeout": 1,
            **options,
        },
    )
    engine = Engine({"probe": ProbeCollector()}, settings={"cert_warning_days": 30})
    (outcome,) = engine.collect([target])
    findings = engine.judge(outcome.resources, [outcome.run])
    verdicts = {(f.check_id, f.resource_uid): f for f in findings}
    return outcome, verdicts


def _uid(estate, name, host="127.0.0.1"):
    return parse_probe_url(estate.url(name, host)).uid


def test_a_valid_certificate_verifies_and_its_details_are_read(estate):
    facts = _facts(estate, "valid", host="localhost")
    tls = facts["tls"]
    assert facts["reachable"] is True and facts["status"] == 200
    assert tls["verified"] is True and tls["verify_error"] is None
    assert tls["version"] in ("TLSv1.2", "TLSv1.3")
    assert "localhost" in tls["sans"] and "127.0.0.1" in tls["sans"]
    assert tls["self_signed"] is False and tls["hostname_matches"] is True
    assert tls["days_left"] > 30
    assert facts["hsts"] == "max-age=31536000"
    assert all(status == 401 for status in facts["paths"].values())
    # the request carried the host name, not the address connected to, and our name
    method, _, host = estate.site("valid").requests[0]
    assert (method, host) == ("GET", f"localhost:{estate.ports['valid']}")


def test_the_valid_endpoint_passes_every_check(estate):
    _, verdicts = _poll(estate, "valid", host="localhost")
    uid = _uid(estate, "valid", "localhost")
    statuses = {check: f.status for (check, u), f in verdicts.items() if u == uid}
    assert statuses["probe-tls-untrusted"] is Status.PASS
    assert statuses["probe-tls-cert-expiry"] is Status.PASS
    assert statuses["probe-tls-weak-protocol"] is Status.PASS
    assert statuses["probe-hsts-missing"] is Status.PASS
    assert statuses["probe-admin-path-open"] is Status.PASS
    assert statuses["probe-debug-endpoint-exposed"] is Status.PASS


def test_an_expired_certificate_fails_verification_and_expiry(estate):
    facts = _facts(estate, "expired")
    assert facts["tls"]["verified"] is False
    assert "expired" in facts["tls"]["verify_error"]
    assert facts["tls"]["days_left"] < 0
    assert facts["reachable"] is True  # still looked at, like an attacker would
    _, verdicts = _poll(estate, "expired")
    expiry = verdicts[("probe-tls-cert-expiry", _uid(estate, "expired"))]
    assert expiry.status is Status.FAIL and expiry.severity.value == "high"
    assert "expired" in expiry.detail


def test_a_self_signed_certificate_is_reported_with_its_details(estate):
    facts = _facts(estate, "self_signed")
    tls = facts["tls"]
    assert tls["verified"] is False and "self-signed" in tls["verify_error"]
    assert tls["self_signed"] is True and tls["subject"] == tls["issuer"]
    _, verdicts = _poll(estate, "self_signed")
    finding = verdicts[("probe-tls-untrusted", _uid(estate, "self_signed"))]
    assert finding.status is Status.FAIL and "self-signed" in finding.detail


def test_a_trusted_certificate_for_another_name_is_a_mismatch(estate):
    facts = _facts(estate, "wrong_name")
    tls = facts["tls"]
    assert tls["verified"] is False
    assert tls["self_signed"] is False and tls["hostname_matches"] is False
    assert tls["sans"] == ["other.example"]
    _, verdicts = _poll(estate, "wrong_name")
    finding = verdicts[("probe-tls-untrusted", _uid(estate, "wrong_name"))]
    assert finding.status is Status.FAIL and "other.example" in finding.detail


def test_tls_below_1_2_is_read_and_fails(estate):
    facts = _facts(estate, "tls11")
    assert facts["tls"]["version"] == "TLSv1.1"
    assert facts["tls"]["verified"] is False  # a modern client refuses the handshake
    assert facts["tls"]["subject"] == "CN=127.0.0.1"  # yet the certificate was read
    _, verdicts = _poll(estate, "tls11")
    weak = verdicts[("probe-tls-weak-protocol", _uid(estate, "tls11"))]
    assert weak.status is Status.FAIL and "TLSv1.1" in weak.detail
    valid = _poll(estate, "valid")[1]
    assert valid[("probe-tls-weak-protocol", _uid(estate, "valid"))].status is Status.PASS


def test_admin_paths_answering_200_are_critical(estate):
    facts = _facts(estate, "open_admin")
    assert facts["paths"]["/admin"] == 200 and facts["paths"]["/metrics"] == 200
    assert facts["paths"]["/console"] == 404 and facts["catch_all"] is False
    _, verdicts = _poll(estate, "open_admin")
    uid = _uid(estate, "open_admin")
    admin = verdicts[("probe-admin-path-open", uid)]
    debug = verdicts[("probe-debug-endpoint-exposed", uid)]
    assert admin.status is Status.FAIL and admin.severity.value == "critical"
    assert "/admin" in admin.detail and "/console" not in admin.detail
    assert debug.status is Status.FAIL and "/metrics" in debug.detail
    assert verdicts[("probe-no-tls", uid)].status is Status.FAIL
    for request in estate.site("open_admin").requests:
        assert request[0] == "GET"


def test_401_everywhere_is_not_open(estate):
    facts = _facts(estate, "denied")
    assert set(facts["paths"].values()) == {401}
    _, verdicts = _poll(estate, "denied")
    assert verdicts[("probe-admin-path-open", _uid(estate, "denied"))].status is Status.PASS


def test_a_hanging_server_times_out_and_stays_unknown(estate):
    began = time.monotonic()
    facts = _facts(estate, "hanging", timeout=0.5)
    assert time.monotonic() - began < 5  # one timeout, not one per path
    assert facts["reachable"] is False and "Timeout" in facts["error"]
    assert facts["paths"] == {}
    _, verdicts = _poll(estate, "hanging", timeout=0.5)
    uid = _uid(estate, "hanging")
    judged = {check: f.status for (check, u), f in verdicts.items() if u == uid}
    assert judged["probe-admin-path-open"] is Status.UNKNOWN
    assert Status.PASS not in judged.values()


def test_a_redirect_to_another_host_is_not_followed(estate):
    before = len(estate.site("elsewhere").requests)
    facts = _facts(estate, "redirect_away")
    assert facts["redirect"]["status"] == 302
    assert facts["redirect"]["to_https"] is False and facts["redirect"]["same_host"] is False
    assert facts["paths"]["/admin"] == 302  # a redirect is not an open door
    assert len(estate.site("elsewhere").requests) == before
    _, verdicts = _poll(estate, "redirect_away")
    assert verdicts[("probe-no-tls", _uid(estate, "redirect_away"))].status is Status.FAIL
    assert verdicts[("probe-admin-path-open", _uid(estate, "redirect_away"))].status is Status.PASS


def test_banners_are_kept_verbatim_and_the_user_agent_names_the_tool(estate):
    facts = _facts(estate, "hostile")
    assert facts["banners"] == {"server": HOSTILE_SERVER, "x_powered_by": HOSTILE_POWERED}
    _, verdicts = _poll(estate, "hostile")
    finding = verdicts[("probe-banner-disclosure", _uid(estate, "hostile"))]
    assert finding.status is Status.FAIL and HOSTILE_POWERED in finding.detail
    assert USER_AGENT.startswith("postureapp-probe/")


def test_loopback_is_refused_without_allow_private(estate):
    before = len(estate.site("open_admin").requests)
    outcome, verdicts = _poll(estate, "open_admin", allow_private=False)
    (resource,) = outcome.resources
    assert "loopback" in resource.attrs["skipped"]
    assert resource.attrs["paths"] == {} and resource.attrs["reachable"] is None
    assert len(estate.site("open_admin").requests) == before  # nothing was sent
    assert outcome.run.status is RunStatus.OK and "not probed" in outcome.run.error
    statuses = {f.status for (_, uid), f in verdicts.items() if uid == resource.uid}
    assert statuses == {Status.UNKNOWN}


def test_the_budget_bounds_the_whole_probe(estate):
    began = time.monotonic()
    outcome, _ = _poll(
        estate, "hanging", "open_admin", "denied", concurrency=1, budget=1, timeout=10
    )
    # Without the cut, the hanging request alone would take its 10 s timeout.
    assert time.monotonic() - began < 6
    by_uid = {r.uid: r.attrs for r in outcome.resources}
    hanging = by_uid[_uid(estate, "hanging")]
    assert hanging["skipped"] is None and "while probing" in hanging["incomplete"]
    for name in ("open_admin", "denied"):
        assert "before this endpoint" in by_uid[_uid(estate, name)]["skipped"]
    assert len(outcome.resources) == 3  # nothing dropped
