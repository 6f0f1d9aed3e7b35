import threading

from postureapp.model import RunStatus, SnapshotStatus, Target, Waiver

PROD = Target("kubernetes", "prod")
STAGING = Target("kubernetes", "staging")


def _statuses(store, snapshot_id):
    return {f["resource_uid"]: f["status"] for f in store.findings(snapshot_id)}


def test_poll_judges_and_writes(make_engine, collector, store):
    collector.pods = {"prod": ["web", "debug"]}
    collector.bad = {"debug"}
    result = make_engine().poll([PROD])
    assert result.status is SnapshotStatus.COMPLETE
    assert result.failing == {"high": 1}
    assert _statuses(store, result.snapshot_id) == {
        "k8s://prod/shop/Pod/web": "pass",
        "k8s://prod/shop/Pod/debug": "fail",
    }


def test_one_failed_target_makes_the_snapshot_partial_and_the_rest_lands(
    make_engine, collector, store
):
    collector.pods = {"prod": ["web"], "staging": ["api"]}
    collector.fail = {"staging": "credentials rejected (401)"}
    result = make_engine().poll([PROD, STAGING])
    assert result.status is SnapshotStatus.PARTIAL
    runs = {run.target: run for run in result.runs}
    assert runs["staging"].status is RunStatus.FAILED
    statuses = _statuses(store, result.snapshot_id)
    assert statuses["k8s://prod/shop/Pod/web"] == "pass"
    # the failed cluster is unknown, never pass
    assert statuses["k8s://staging/_/Cluster/staging"] == "unknown"


def test_a_collector_that_raises_is_contained(make_engine, collector, store):
    collector.pods = {"prod": ["web"]}
    collector.raise_on = {"staging"}
    result = make_engine().poll([PROD, STAGING])
    runs = {run.target: run for run in result.runs}
    assert runs["staging"].status is RunStatus.FAILED
    assert "boom on staging" in runs["staging"].error
    assert result.status is SnapshotStatus.PARTIAL


def test_a_hung_collector_times_out_without_blocking_the_poll(make_engine, collector):
    collector.pods = {"prod": ["web"]}
    release = threading.Event()
    collector.block = {"staging": release}
    try:
        result = make_engine(timeout=0.5).poll([PROD, STAGING])
    finally:
        release.set()
    runs = {run.target: run for run in result.runs}
    assert runs["staging"].status is RunStatus.FAILED
    assert "timed out" in runs["staging"].error
    assert runs["prod"].status is RunStatus.OK


def test_missing_kind_makes_the_check_unknown_not_pass(make_engine, collector, store):
    collector.pods = {"prod": ["web"]}
    collector.unknown = {"prod": {"Pod": "pods is forbidden: list pods (cluster scope)"}}
    result = make_engine().poll([PROD])
    assert result.status is SnapshotStatus.PARTIAL
    [finding] = list(store.findings(result.snapshot_id))
    assert finding["status"] == "unknown"
    assert "list pods" in finding["detail"]


def test_failing_finding_is_carried_forward_as_unknown_when_sight_is_lost(
    make_engine, collector, store
):
    collector.pods = {"prod": ["debug"]}
    collector.bad = {"debug"}
    engine = make_engine()
    first = engine.poll([PROD])
    collector.unknown = {"prod": {"Pod": "pods is forbidden"}}
    second = engine.poll([PROD])
    statuses = _statuses(store, second.snapshot_id)
    assert statuses["k8s://prod/shop/Pod/debug"] == "unknown"
    diff = store.diff(first.snapshot_id, second.snapshot_id)
    assert diff.resolved == []
    assert [row["fields"] for row in diff.changed] == [["status", "content"]]
    # once seen again and fixed, it resolves for real
    collector.unknown = {}
    collector.bad = set()
    third = engine.poll([PROD])
    assert [r["status"] for r in store.diff(first.snapshot_id, third.snapshot_id).resolved] == [
        "pass"
    ]


def test_a_broken_check_is_an_error_finding(store, collector):
    from postureapp.checks.registry import Registry
    from postureapp.model import Severity, View
    from postureapp.poll import Poller

    registry = Registry()

    @registry.check(
        id="test-broken",
        title="Broken",
        view=View.SECRETS,
        severity=Severity.LOW,
        provider="kubernetes",
        remediation="n/a",
    )
    def broken(inv):
        raise KeyError("attr")

    collector.pods = {"prod": ["web"]}
    result = Poller(store, {"kubernetes": collector}, registry=registry).poll([PROD])
    [finding] = list(store.findings(result.snapshot_id))
    assert finding["status"] == "error" and "KeyError" in finding["detail"]


def test_waivers_are_recorded_with_the_snapshot(make_engine, collector, store):
    collector.pods = {"prod": ["debug"]}
    collector.bad = {"debug"}
    store.add_waiver(
        Waiver(
            reason="lab box",
            owner="ops",
            check_id="test-privileged-pod",
            resource_glob="k8s://prod/*",
        )
    )
    result = make_engine().poll([PROD])
    assert result.failing == {}  # waived findings do not count towards the gate
    [finding] = list(store.findings(result.snapshot_id))
    assert finding["waiver_id"] is not None


def test_retention_is_applied_after_each_poll(make_engine, collector, store):
    collector.pods = {"prod": ["web"]}
    engine = make_engine(retention=3)
    for _ in range(5):
        engine.poll([PROD])
    assert len(store.snapshots()) == 3


def test_governance_control_from_evidence(make_engine, collector, store):
    from postureapp.governance import evaluate_controls

    collector.pods = {"prod": ["web", "debug"]}
    collector.bad = {"debug"}
    engine = make_engine()
    result = engine.poll([PROD])
    [control] = evaluate_controls(
        engine.registry.controls.values(), store.status_counts(result.snapshot_id), {}
    )
    assert control.status.value == "partial" and control.coverage == 0.5
    collector.fail = {"prod": "unreachable"}
    result = engine.poll([PROD])
    [control] = evaluate_controls(
        engine.registry.controls.values(), store.status_counts(result.snapshot_id), {}
    )
    # the failing pod is carried forward as unknown: the control cannot be judged
    assert control.status.value == "unknown"
