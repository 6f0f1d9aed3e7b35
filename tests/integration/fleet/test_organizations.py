"""An organisation of 22 active member accounts (plus the management account and a
suspended one) collected through ``posture collect --organization``, as a user runs it,
against moto's server behind a proxy where three accounts refuse the role, two are
throttled, and ``ListAccounts`` is throttled twice before it answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from postureapp.store import Store
from tests.integration.fleet.conftest import environment, posture
from tests.integration.fleet.estate import MANAGEMENT, MANAGEMENT_KEY, reset, seed_organization
from tests.integration.fleet.proxy import FaultProxy, Rules

# One xdist worker runs the fleet modules: the session's moto server and the
# organisation's collection (~25 s) are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("fleet")


MAX_CONCURRENCY = 3
WORKERS = 4
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def organization(moto_server):
    reset(moto_server)
    org = seed_organization(moto_server, members=22, suspended=1)
    members = sorted(org.accounts.values())
    # Two typical accounts: one trusted by the management account (cross-account).
    from tests.integration.fleet.estate import seed_typical_account

    seed_typical_account(org, members[0], REGIONS)
    return org


@pytest.fixture(scope="module")
def collected(organization, tmp_path_factory):
    """One collection of the whole organisation; the tests below read what it left."""
    members = sorted(organization.accounts.values())
    refused, throttled = members[1:4], members[4:6]
    rules = Rules(
        refuse=set(refused),
        throttle={account: 3 for account in throttled},
        throttle_actions={"ListAccounts": 2},
    )
    home = tmp_path_factory.mktemp("org-home")
    config = home / ".config" / "posture" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"[fleet]\nmax_concurrency = {MAX_CONCURRENCY}\n\n[poll]\nworkers = {WORKERS}\n"
    )
    with FaultProxy(organization.endpoint, {MANAGEMENT_KEY: MANAGEMENT}, rules) as proxy:
        ran = posture(
            [
                "collect",
                "--organization",
                *(arg for region in REGIONS for arg in ("--region", region)),
                "--endpoint-url",
                proxy.url,
                "--db",
                str(home / "fleet.db"),
            ],
            environment(home),
        )
    with Store(home / "fleet.db", readonly=True) as store:
        snapshot = store.latest()
        resources = list(store.resources(snapshot.id))
        findings = list(store.findings(snapshot.id))
    return {
        "ran": ran,
        "proxy": proxy,
        "snapshot": snapshot,
        "resources": resources,
        "findings": findings,
        "refused": refused,
        "throttled": throttled,
    }


def test_every_active_account_is_a_run_of_its_own(organization, collected):
    runs = collected["snapshot"].runs
    accounts = {run.target: run for run in runs if run.collector == "aws"}
    assert set(accounts) == {MANAGEMENT, *organization.accounts.values()}
    for account, run in accounts.items():
        assert (run.provider, run.scope) == ("aws", account)
    discovery = [run for run in runs if run.collector == "aws-organizations"]
    assert len(discovery) == 1 and discovery[0].status.value == "ok", discovery
    assert discovery[0].scope == MANAGEMENT


def test_a_refused_role_is_a_failed_run_with_its_reason(collected):
    ran, runs = collected["ran"], collected["snapshot"].runs
    assert ran.code == 3, ran.stderr[-2000:]
    assert collected["snapshot"].status.value == "partial"
    for account in collected["refused"]:
        run = next(run for run in runs if run.target == account)
        assert run.status.value == "failed"
        assert run.scope == account  # only this account goes unknown
        assert "cannot assume arn:aws:iam::" + account in run.error
        assert "sts:AssumeRole denied (AccessDenied)" in run.error
        assert f"aws {account}: failed: cannot assume" in ran.stderr
        assert collected["proxy"].refused[account] >= 1


def test_a_refused_account_is_unknown_and_the_others_are_judged(collected):
    findings = collected["findings"]
    for account in collected["refused"]:
        mine = [f for f in findings if f["resource_uid"] == f"aws://{account}"]
        assert mine and {f["status"] for f in mine} == {"unknown"}
        assert all("cannot assume" in f["detail"] for f in mine)
    judged = {f["status"] for f in findings if f["status"] in ("pass", "fail")}
    assert judged == {"pass", "fail"}


def test_throttled_accounts_and_listing_are_retried_not_failed(collected):
    proxy, runs = collected["proxy"], collected["snapshot"].runs
    assert proxy.throttled["ListAccounts"] == 2
    for account in collected["throttled"]:
        assert proxy.throttled[account] == 3
        run = next(run for run in runs if run.target == account)
        assert run.status.value != "failed", run.error
        assert "throttled" not in run.error


def test_concurrency_stays_within_the_bound(collected):
    # Units in flight are bounded by fleet.max_concurrency across every account; the
    # calls before an account's units (GetCallerIdentity, AssumeRole) by poll.workers.
    assert collected["proxy"].max_in_flight <= MAX_CONCURRENCY + WORKERS


def test_calls_per_account_are_counted_and_regions_read(collected):
    runs = [r for r in collected["snapshot"].runs if r.collector == "aws"]
    ok = [r for r in runs if r.status.value != "failed"]
    assert all(r.api_calls > 10 for r in ok)
    regions = {
        (r["scope"].split("/")[0], r["name"])
        for r in collected["resources"]
        if r["kind"] == "AWSRegion"
    }
    for run in ok:
        assert {(run.target, region) for region in REGIONS} <= regions


def test_the_organisation_is_recorded_for_views(organization, collected):
    resources = collected["resources"]
    accounts = {r["attrs"]["account_id"]: r for r in resources if r["kind"] == "AWSAccount"}
    assert len(accounts) == 1 + 22 + 1
    for account, resource in accounts.items():
        assert resource["scope"] == f"{MANAGEMENT}/global"
        if account in organization.ou_of:
            assert resource["attrs"]["ou_path"] == organization.ou_of[account]
    suspended = accounts[organization.suspended[0]]["attrs"]
    assert (suspended["status"], suspended["collected"]) == ("SUSPENDED", False)
    assert suspended["not_collected"] == "status SUSPENDED"
    management = accounts[MANAGEMENT]["attrs"]
    assert management["management"] and management["collected_as"] == "caller"
    member = accounts[sorted(organization.accounts.values())[0]]["attrs"]
    assert member["collected_as"] == "role" and member["name"].startswith("member-")
    units = {r["attrs"]["path"] for r in resources if r["kind"] == "AWSOrganizationalUnit"}
    assert units == {"Root/Prod", "Root/Prod/EU", "Root/Sandbox"}
    assert not [
        r for r in resources if r["kind"] == "AWSAccount" and "email" in str(r["attrs"]).lower()
    ]


def test_findings_cross_accounts(organization, collected):
    """The member role trusted by the management account is judged with both in view."""
    member = sorted(organization.accounts.values())[0]
    trust = [
        f
        for f in collected["findings"]
        if f["check_id"] == "aws-iam-role-external-trust"
        and f["resource_uid"] == f"arn:aws:iam::{member}:role/deployer"
    ]
    assert trust and trust[0]["status"] == "fail"
    assert MANAGEMENT in trust[0]["evidence"]["accounts"]


def _run(organization, tmp_path: Path, args: list[str], config: str = "", rules=None):
    home = tmp_path / "home"
    if config:
        path = home / ".config" / "posture" / "config.toml"
        path.parent.mkdir(parents=True)
        path.write_text(config)
    with FaultProxy(organization.endpoint, {MANAGEMENT_KEY: MANAGEMENT}, rules) as proxy:
        ran = posture(
            ["collect", "--organization", "--endpoint-url", proxy.url, "--db", "f.db", *args],
            environment(home),
        )
    return ran, proxy, home


def _collected_targets(path: Path) -> set[str]:
    with Store(path, readonly=True) as store:
        return {run.target for run in store.latest().runs if run.collector == "aws"}


def test_a_denied_listing_fails_the_organisation_naming_the_permission(organization, tmp_path):
    ran, _proxy, _home = _run(
        organization,
        tmp_path,
        ["--db", str(tmp_path / "f.db")],
        rules=Rules(deny_actions={"ListAccounts"}),
    )
    assert ran.code == 3
    assert "organizations:ListAccounts denied (AccessDeniedException)" in ran.stderr
    assert "delegated administrator" in ran.stderr
    with Store(tmp_path / "f.db", readonly=True) as store:
        snapshot = store.latest()
        assert snapshot.status.value == "failed"
        assert [run.collector for run in snapshot.runs] == ["aws-organizations"]
        findings = list(store.findings(snapshot.id))
    aws = [f for f in findings if f["check_id"].startswith("aws-")]
    assert aws and {f["status"] for f in aws} == {"unknown"}


def test_ou_filters_select_accounts(organization, tmp_path):
    config = '[fleet]\naws_include_ous = ["Root/Prod"]\naws_exclude_ous = ["Root/Prod/EU"]\n'
    ran, _, _ = _run(organization, tmp_path, ["--db", str(tmp_path / "f.db")], config)
    assert ran.code in (0, 3), ran.stderr
    expected = {a for a, path in organization.ou_of.items() if path == "Root/Prod"}
    expected -= set(organization.suspended)
    assert _collected_targets(tmp_path / "f.db") == expected


def test_target_and_shard_narrow_the_accounts(organization, tmp_path):
    member = sorted(organization.accounts.values())[7]
    ran, _, _ = _run(organization, tmp_path, ["--db", str(tmp_path / "one.db"), "--target", member])
    assert ran.code in (0, 3), ran.stderr
    assert _collected_targets(tmp_path / "one.db") == {member}

    every = {MANAGEMENT, *organization.accounts.values()}
    shards = []
    for index in range(3):
        db = tmp_path / f"s{index}.db"
        ran, _, _ = _run(organization, tmp_path, ["--db", str(db), "--shard", f"{index}/3"])
        assert ran.code in (0, 3), ran.stderr
        shards.append(_collected_targets(db))
    assert set().union(*shards) == every
    assert sum(len(shard) for shard in shards) == len(every)
    assert all(int(account) % 3 == index for index, shard in enumerate(shards) for account in shard)


def test_bad_fleet_input_is_one_line_and_exit_2(organization, tmp_path):
    home = tmp_path / "home"
    env = environment(home)
    org = ["--organization", "--endpoint-url", organization.endpoint]
    for args, fragment in [
        ([*org, "--shard", "3/3"], "0 <= INDEX < COUNT"),
        (["--region", "us-east-1", "--shard", "0/2"], "add --organization"),
        ([*org, "--target", "nope"], "no such target"),
        ([*org, "--target", "123456789012", "--shard", "0/2"], "pick one"),
    ]:
        ran = posture(["collect", "--db", str(tmp_path / "x.db"), *args], env)
        assert ran.code == 2, (args, ran.stderr)
        assert fragment in ran.stderr and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert not (tmp_path / "x.db").exists()
