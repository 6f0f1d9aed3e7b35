"""The Kubernetes checks' metadata (a public contract), and properties every check keeps
on the bundled fixture estate: no secret value in a finding, details that do not drift
from poll to poll, one result per resource. Framework mappings are checked for every
plane in tests/checks/test_catalog.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from postureapp.checks.registry import REGISTRY
from postureapp.collectors.kubernetes.kinds import ALL_KINDS
from postureapp.collectors.kubernetes.offline import load_dump
from postureapp.inventory import Inventory
from postureapp.model import View, canonical_json
from tests.kube.estate import (
    CANARY_ENV_VALUE,
    CANARY_SECRET_B64,
    CANARY_SECRET_VALUE,
    fixtures_dir,
)

from .estate import NOW, SETTINGS, cluster, uid_of

KUBERNETES_CHECKS = sorted(
    check_id
    for check_id, meta in REGISTRY.checks.items()
    if meta.function.__module__.startswith("postureapp.checks.kubernetes.")
)
KNOWN_KINDS = {spec.kind for spec in ALL_KINDS}


@pytest.mark.parametrize("check_id", KUBERNETES_CHECKS)
def test_metadata_is_complete(check_id):
    meta = REGISTRY.checks[check_id]
    assert re.fullmatch(r"k8s-[a-z0-9]+(-[a-z0-9]+)+", meta.id)
    assert meta.provider == "kubernetes"
    assert meta.title and meta.description and len(meta.remediation) > 80
    assert meta.references and all(ref.startswith("https://") for ref in meta.references)
    assert meta.requires and set(meta.requires) <= KNOWN_KINDS
    if check_id.startswith("k8s-gov-"):
        assert meta.view is View.GOVERNANCE
    else:
        assert meta.view is not View.GOVERNANCE


def fixture_inventory(now=NOW) -> Inventory:
    resources = load_dump(fixtures_dir(), scope="demo").resources
    demo = cluster("demo", istio=True, cert_manager=True, gatekeeper=True)
    return Inventory(resources=[*resources, demo], settings=dict(SETTINGS), now=now)


def test_fixture_estate_findings_carry_no_secret_value_and_one_result_per_resource():
    inv = fixture_inventory()
    for check_id in KUBERNETES_CHECKS:
        seen = set()
        for result in REGISTRY.checks[check_id].function(inv):
            uid = uid_of(result)
            assert uid not in seen, f"{check_id} judged {uid} twice"
            seen.add(uid)
            text = result.detail + canonical_json(result.evidence)
            for canary in (CANARY_ENV_VALUE, CANARY_SECRET_VALUE, CANARY_SECRET_B64):
                assert canary not in text, check_id
            assert not re.search(r"\bdays? ago\b", text)


def test_fixture_estate_details_are_stable_from_one_poll_to_the_next():
    today = fixture_inventory()
    tomorrow = fixture_inventory(NOW + timedelta(days=1))
    for check_id in KUBERNETES_CHECKS:
        function = REGISTRY.checks[check_id].function
        before = {uid_of(r): r for r in function(today)}
        after = {uid_of(r): r for r in function(tomorrow)}
        assert set(before) == set(after)
        for uid, result in before.items():
            if result.status is after[uid].status:
                assert (result.detail, result.evidence) == (after[uid].detail, after[uid].evidence)
