"""The demo, headless, end to end: real moto and Kubernetes API servers, real
collectors, the real graph. It must show the full path from an internet-facing load
balancer to an AWS admin role, and keep the clean namespace off every path."""

from __future__ import annotations

import pytest

from postureapp.config import load_config
from postureapp.demo import DemoEnvironment
from postureapp.demo.aws_estate import role_arn
from postureapp.export import build_document
from postureapp.poll import run_poll
from postureapp.store import Store

# One xdist worker runs this module: the demo estate's poll
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("demo-paths")


@pytest.fixture(scope="module")
def demo_document(tmp_path_factory):
    empty = tmp_path_factory.mktemp("config") / "config.toml"
    empty.write_text("")
    config = load_config(empty, environ={})
    with DemoEnvironment(probe=False) as demo, Store(demo.db_path) as store:
        result = run_poll(store, config, demo.targets)
        snapshot = next(s for s in store.snapshots() if s.id == result.snapshot_id)
        yield build_document(store, snapshot)


def test_the_demo_has_a_full_path_from_a_public_load_balancer_to_an_aws_admin_role(
    demo_document,
):
    admin_role = role_arn("data-pipeline")
    full = [
        path
        for path in demo_document["attack_paths"]
        if path["capability"] == "admin-equivalent"
        and path["plane"] == "aws"
        and path["hops"][-2]["uid"] == admin_role
    ]
    assert full, [p["summary"] for p in demo_document["attack_paths"]]
    hops = full[0]["hops"]
    assert [h["relation"] for h in hops] == [None, "exposes", "runs-as", "assumes", "can"]
    assert "internet-facing LoadBalancer" in hops[0]["evidence"]["why"]
    assumes = hops[3]["evidence"]
    assert assumes["confirmed"] is True and assumes["issuer_verified"] is True
    assert "AdministratorAccess" in hops[4]["evidence"]["grants"][0]["text"]


def test_the_path_checks_fail_on_the_demo_story(demo_document):
    failing = {
        (f["check_id"], f["resource_uid"])
        for f in demo_document["findings"]
        if f["status"] == "fail" and f["check_id"].startswith("path-")
    }
    reports = "k8s://demo-prod/data/Deployment/reports-ui"
    assert ("path-exposed-irsa-admin", reports) in failing
    assert ("path-exposed-admin", "k8s://demo-prod/platform/Deployment/argocd-server") in failing
    assert ("path-sa-shared-exposed", "k8s://demo-prod/data/ServiceAccount/etl") in failing
    assert ("path-irsa-wildcard-sub", role_arn("data-pipeline")) in failing
    finding = next(
        f
        for f in demo_document["findings"]
        if f["check_id"] == "path-exposed-irsa-admin" and f["resource_uid"] == reports
    )
    assert finding["evidence"]["hops"][0]["kind"] == "endpoint"


def test_the_clean_namespace_is_on_no_path(demo_document):
    for path in demo_document["attack_paths"]:
        assert all("/payments/" not in hop["uid"] for hop in path["hops"]), path["summary"]
    payments = [
        f
        for f in demo_document["findings"]
        if f["check_id"].startswith("path-") and "/payments/" in f["resource_uid"]
    ]
    assert all(f["status"] != "fail" for f in payments)
    # moto has no ListPodIdentityAssociations, so a path that would pass cannot be
    # proven clean: it is unknown, and says why.
    unknown = [f for f in payments if f["status"] == "unknown"]
    assert unknown and all("Pod Identity" in f["detail"] for f in unknown), [
        f["detail"] for f in unknown
    ]
