"""The demo's live endpoints: real local servers behind its LoadBalancer Services, so
the probe finds what the story says, links it to the Services, and finds Grafana's
metrics once someone puts Grafana behind a load balancer."""

from __future__ import annotations

import pytest

from postureapp.config import load_config
from postureapp.demo import DemoEnvironment
from postureapp.poll import run_poll
from postureapp.store import Store

# One xdist worker runs this module: the demo estate's two polls
# are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("probe-demo")


@pytest.fixture(scope="module")
def demo_polls(tmp_path_factory):
    empty = tmp_path_factory.mktemp("config") / "config.toml"
    empty.write_text("")
    config = load_config(empty, environ={})
    with DemoEnvironment() as demo, Store(demo.db_path) as store:
        first = run_poll(store, config, demo.targets)
        first_documents = _documents(store, first.snapshot_id)
        demo.evolve()
        second = run_poll(store, config, demo.targets)
        yield {
            "first": first,
            "first_findings": first_documents,
            "second_findings": _documents(store, second.snapshot_id),
        }
    assert demo._sites is None  # the servers stopped with the demo


def _documents(store, snapshot_id):
    from postureapp.export import build_document

    document = build_document(store, store.snapshot(snapshot_id))
    return [f for f in document["findings"] if f["check_id"].startswith("probe-")]


def _by_service(findings, service, check_id):
    return [
        f
        for f in findings
        if f["check_id"] == check_id
        and any(service in uid for uid in f["evidence"].get("exposed_by", []))
    ]


def test_the_probe_ran_on_the_demos_own_endpoints_only(demo_polls):
    (probe,) = [run for run in demo_polls["first"].runs if run.collector == "probe"]
    assert probe.status.value == "ok"
    assert probe.items == 3  # argocd, storefront, reports-ui: nothing outside 127.0.0.1
    assert "outside probe.only_hosts" in probe.error


def test_the_admin_ui_behind_a_load_balancer_answers_without_auth(demo_polls):
    findings = demo_polls["first_findings"]
    (admin,) = _by_service(findings, "platform/Service/argocd-server", "probe-admin-path-open")
    assert admin["status"] == "fail" and admin["severity"] == "critical"
    (debug,) = _by_service(
        findings, "platform/Service/argocd-server", "probe-debug-endpoint-exposed"
    )
    assert debug["status"] == "fail" and "/actuator/env" in debug["detail"]


def test_the_shop_certificate_is_expiring_and_has_no_hsts(demo_polls):
    findings = demo_polls["first_findings"]
    (expiry,) = _by_service(findings, "shop/Service/storefront", "probe-tls-cert-expiry")
    assert expiry["status"] == "fail" and expiry["severity"] == "medium"
    assert 5 <= expiry["evidence"]["days_left"] <= 10
    (hsts,) = _by_service(findings, "shop/Service/storefront", "probe-hsts-missing")
    assert hsts["status"] == "fail"
    (trust,) = _by_service(findings, "shop/Service/storefront", "probe-tls-untrusted")
    assert trust["status"] == "pass"  # the demo trusts its own CA


def test_the_clean_endpoint_passes_everything(demo_polls):
    clean = [
        f
        for f in demo_polls["first_findings"]
        if any("data/Service/reports-ui" in uid for uid in f["evidence"].get("exposed_by", []))
    ]
    assert len(clean) >= 7
    assert {f["status"] for f in clean} == {"pass"}


def test_grafana_going_public_exposes_its_metrics(demo_polls):
    assert not _by_service(
        demo_polls["first_findings"], "grafana-public", "probe-debug-endpoint-exposed"
    )
    (metrics,) = _by_service(
        demo_polls["second_findings"],
        "platform/Service/grafana-public",
        "probe-debug-endpoint-exposed",
    )
    assert metrics["status"] == "fail" and "/metrics" in metrics["detail"]
