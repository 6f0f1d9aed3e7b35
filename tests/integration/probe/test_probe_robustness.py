"""What one endpoint must never do to the probe, against the real local servers of
``conftest.py``: hold it past its budget by trickling bytes, throw away the other
endpoints' results by breaking the prober, or receive a cookie another answer set."""

from __future__ import annotations

import threading
import time

import httpx

import postureapp.checks  # noqa: F401  (registers the probe checks)
from postureapp.collectors.probe import ABANDONED, NOT_STARTED, ProbeCollector
from postureapp.collectors.probe import prober as prober_module
from postureapp.collectors.probe.discovery import parse_probe_url
from postureapp.collectors.probe.prober import ProbeSettings, probe
from postureapp.engine import Engine
from postureapp.model import RunStatus, Status, Target
from tests.integration.probe.conftest import SESSION_COOKIE


def _poll(estate, *names, **options):
    target = Target(
        "probe",
        "probe",
        {
            "urls": [estate.url(name) for name in names],
            "allow_private": True,
            "ca_bundle": str(estate.ca_bundle),
            "timeout": 1,
            **options,
        },
    )
    engine = Engine({"probe": ProbeCollector()}, settings={"cert_warning_days": 30})
    (outcome,) = engine.collect([target])
    findings = engine.judge(outcome.resources, [outcome.run])
    return outcome, findings


def _by_name(estate, outcome):
    urls = {estate.url(name): name for name in estate.ports}
    return {urls[r.attrs["url"]]: r.attrs for r in outcome.resources}


def _probe_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("probe-")]


def _wait_for_no_probe_threads(seconds: float) -> bool:
    limit = time.monotonic() + seconds
    while _probe_threads() and time.monotonic() < limit:
        time.sleep(0.05)
    return not _probe_threads()


def test_a_trickling_server_cannot_hold_the_probe_past_its_budget(estate):
    # The trickle sends a byte every 0.2 s, well inside the 1 s per-read timeout:
    # only a deadline on the whole request ends it.
    began = time.monotonic()
    outcome, findings = _poll(estate, "trickle", "denied", concurrency=2, budget=2)
    elapsed = time.monotonic() - began
    # The trickle never ends, so any bound proves the deadline; this one leaves room
    # for a loaded CI machine.
    assert elapsed < 8, f"collect took {elapsed:.1f}s on a 2s budget"
    attrs = _by_name(estate, outcome)
    trickle = attrs["trickle"]
    # abandoned midway: incomplete, not "skipped" (it was started), nothing half-written
    assert trickle["incomplete"] == ABANDONED and trickle["skipped"] is None
    assert trickle["reachable"] is None and trickle["paths"] == {}
    assert attrs["denied"]["reachable"] is True and attrs["denied"]["incomplete"] is None
    assert outcome.run.status is RunStatus.OK
    assert "1 of 2 endpoints abandoned mid-probe" in outcome.run.error
    uid = parse_probe_url(estate.url("trickle")).uid
    judged = [f for f in findings if f.resource_uid == uid]
    assert judged and {f.status for f in judged} == {Status.UNKNOWN}
    assert all("did not finish" in f.detail for f in judged)
    # the abandoned request was really stopped (its connection shut down), not left
    # trickling in a thread that would outlive the poll
    assert _wait_for_no_probe_threads(2), _probe_threads()


def test_an_endpoint_started_is_incomplete_and_one_never_started_is_skipped(estate):
    outcome, _ = _poll(estate, "trickle", "denied", "open_admin", concurrency=1, budget=1)
    attrs = _by_name(estate, outcome)
    assert attrs["trickle"]["incomplete"] == ABANDONED and attrs["trickle"]["skipped"] is None
    for name in ("denied", "open_admin"):
        assert attrs[name]["skipped"] == NOT_STARTED and attrs[name]["incomplete"] is None
    assert "2 of 3 endpoints not probed" in outcome.run.error
    assert "1 of 3 endpoints abandoned" in outcome.run.error
    assert _wait_for_no_probe_threads(2), _probe_threads()


def test_an_unparseable_certificate_is_a_tls_error_not_a_failed_run(estate, monkeypatch):
    # A certificate that cryptography cannot parse cannot be served for real here:
    # OpenSSL refuses to load a malformed one (load_cert_chain: "invalid certificate"),
    # and one it accepts, cryptography parses. So the parser is made to fail as it does
    # on hostile DER; "denied" is plain HTTP, so only "self_signed" meets it.
    def hostile(der, host, now=None):
        raise ValueError("error parsing asn1 value")

    monkeypatch.setattr(prober_module, "certificate_facts", hostile)
    outcome, findings = _poll(estate, "self_signed", "denied")
    assert outcome.run.status is RunStatus.OK and len(outcome.resources) == 2
    attrs = _by_name(estate, outcome)
    tls = attrs["self_signed"]["tls"]
    assert tls["error"] == "unreadable certificate: ValueError: error parsing asn1 value"
    assert tls["verified"] is False and "self-signed" in tls["verify_error"]
    assert "not_after" not in tls  # nothing invented
    assert attrs["self_signed"]["reachable"] is True  # the rest of the probe went on
    assert attrs["denied"]["paths"]["/admin"] == 401
    uid = parse_probe_url(estate.url("self_signed")).uid
    verdicts = {f.check_id: f for f in findings if f.resource_uid == uid}
    assert verdicts["probe-tls-cert-expiry"].status is Status.UNKNOWN
    assert "unreadable certificate" in verdicts["probe-tls-cert-expiry"].detail
    assert verdicts["probe-tls-untrusted"].status is Status.FAIL  # verification did fail


def test_any_error_in_one_endpoint_is_recorded_on_it_and_the_others_are_kept(estate, monkeypatch):
    broken_port = estate.ports["open_admin"]
    real = prober_module._probe_paths

    def breaks_on_one(session, facts):
        if session.endpoint.port == broken_port:
            raise RuntimeError("unexpected")
        real(session, facts)

    monkeypatch.setattr(prober_module, "_probe_paths", breaks_on_one)
    outcome, findings = _poll(estate, "open_admin", "denied", concurrency=2)
    assert outcome.run.status is RunStatus.OK and len(outcome.resources) == 2
    attrs = _by_name(estate, outcome)
    broken = attrs["open_admin"]
    assert broken["error"] == "the probe failed: RuntimeError: unexpected"
    assert broken["reachable"] is None and broken["paths"] == {}
    assert attrs["denied"]["paths"]["/admin"] == 401
    assert "1 of 2 endpoints failed (the probe failed: RuntimeError" in outcome.run.error
    uid = parse_probe_url(estate.url("open_admin")).uid
    judged = [f for f in findings if f.resource_uid == uid]
    assert judged and {f.status for f in judged} == {Status.UNKNOWN}
    # and called directly, probe() records instead of raising
    settings = ProbeSettings(timeout=1, allow_private=True)
    facts = probe(parse_probe_url(estate.url("open_admin")), settings, time.monotonic() + 10)
    assert facts["error"].startswith("the probe failed")


def test_a_cookie_set_by_the_root_is_never_sent_back(estate):
    site = estate.site("sets_cookie")
    url = estate.url("sets_cookie")
    # The control: an ordinary httpx client does send the cookie back to this server,
    # so the assertion below is about the probe, not about the server or the recording.
    with httpx.Client(trust_env=False) as client:
        client.get(url)
        client.get(url + "admin")
    assert site.received[-1].get("cookie") == SESSION_COOKIE
    site.requests.clear()
    site.received.clear()

    settings = ProbeSettings(timeout=2, allow_private=True)
    facts = probe(parse_probe_url(url), settings, time.monotonic() + 30)
    assert facts["reachable"] is True and facts["paths"]["/admin"] == 404
    paths = [path for _, path, _ in site.requests]
    assert paths[0] == "/" and "/admin" in paths and len(paths) > 5
    assert [h.get("cookie") for h in site.received] == [None] * len(paths)
    assert not any("authorization" in h for h in site.received)
