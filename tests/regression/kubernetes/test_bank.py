"""The regression bank, live and offline (issue 15's done-when): every expectation gets a
verdict (no unknown from an empty or unserved kind), the cases of the report are found,
and every finding names a resource the snapshot holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.regression.kubernetes.bank import (
    MODES,
    PEERS,
    Outcome,
    load_cases,
    run,
    table,
)

# One xdist worker runs this module: the bank's judged cases
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("kube-bank")


# The report's cases, by the id of the bank case that carries each (both modes).
REPORTED = {
    "empty NetworkPolicy list": "own-no-netpol-anywhere",
    "no Gateway API, Argo CD behind a LoadBalancer": "own-argocd-load-balancer-no-gateway-api",
    "SYS_ADMIN in an ephemeral container": "own-sys-admin-ephemeral",
    "NET_ADMIN in an init container": "own-net-admin-init",
    "SYS_PTRACE": "own-sys-ptrace",
    "SYS_MODULE in an init container": "own-sys-module-init",
    "BPF": "own-bpf",
    "system:anonymous bound to a missing role": "own-anonymous-missing-cluster-role",
    "system:unauthenticated bound to a missing role": "own-unauthenticated-missing-role",
    "a Deployment scaled to zero": "own-deployment-scaled-to-zero",
    "a CronJob that has not run yet": "own-cronjob-not-run-yet",
    "a DaemonSet template": "own-daemonset-template",
    "a token the service account uses": "own-token-used-by-its-role",
}


@pytest.fixture(scope="module")
def judged() -> tuple[list[Outcome], list[str]]:
    outcomes, orphans = [], []
    for outcome, lost in run():
        outcomes.append(outcome)
        orphans.extend(f"{outcome.mode}: {uid}" for uid in lost)
    return outcomes, sorted(set(orphans))


def test_every_expectation_gets_a_verdict_live_and_offline(judged) -> None:
    outcomes, _ = judged
    missing = [
        f"{o.mode} {o.case.id} {o.expectation.check}: {o.detail}"
        for o in outcomes
        if o.cell == "no-verdict"
    ]
    assert missing == []
    assert {o.mode for o in outcomes} == set(MODES)


def test_the_reported_cases_are_found(judged) -> None:
    outcomes, _ = judged
    by_case = {(o.case.id, o.mode): [] for o in outcomes}
    for outcome in outcomes:
        by_case[(outcome.case.id, outcome.mode)].append(outcome)
    for what, case_id in REPORTED.items():
        for mode in MODES:
            results = by_case[(case_id, mode)]
            assert results and all(o.cell in ("TP", "TN") for o in results), (what, mode)


def test_no_false_verdict_on_the_bank(judged) -> None:
    outcomes, _ = judged
    wrong = [
        f"{o.cell} {o.mode} {o.case.id}: {o.expectation} -> {o.detail}"
        for o in outcomes
        if o.cell in ("FP", "FN")
    ]
    assert wrong == []


def test_every_finding_names_a_resource_the_snapshot_holds(judged) -> None:
    _, orphans = judged
    assert orphans == []


def test_the_table_counts_every_expectation_once_per_mode(judged) -> None:
    outcomes, _ = judged
    text = table(outcomes)
    expectations = sum(len(case.expect) for case in load_cases())
    assert len(outcomes) == 2 * expectations
    assert "live     all" in text and "offline  all" in text


def test_peer_files_are_attributed_with_their_licence() -> None:
    attribution = (PEERS.parent / "ATTRIBUTION.md").read_text()
    for project in ("polaris", "regolibrary", "badpods"):
        assert (PEERS / project / "LICENSE").is_file() and (PEERS / project / "COMMIT").is_file()
        assert f"`peers/{project}/`" in attribution
    used = {file for case in load_cases() for file in case.files}
    on_disk = {
        str(path.relative_to(PEERS))
        for path in PEERS.rglob("*")
        if path.suffix in (".yaml", ".yml")
    }
    assert used == on_disk  # nothing copied that no case uses, nothing used that is missing
    assert all(Path(PEERS / file).is_file() for file in used)
