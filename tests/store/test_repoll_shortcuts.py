"""The shortcuts an unchanged re-poll takes (a resource whose source version is unchanged
is not re-serialised; findings whose digest equals the last snapshot's are not read back)
never hide a change: whatever changed, however little, is stored as changed."""

from __future__ import annotations

import copy

import pytest

from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.model import Finding, Severity, SnapshotStatus, Status, Target, View, Waiver
from postureapp.poll import Poller
from postureapp.store.writer import findings_digest
from tests.kube import server_from_fixtures

TOKEN = "repoll-token"
CONTEXT = "repoll"


def _finding(name: str, evidence: dict | None = None, detail: str = "d") -> Finding:
    return Finding(
        "chk-a",
        f"k8s://c/shop/Pod/{name}",
        Status.FAIL,
        Severity.HIGH,
        View.IDENTITIES,
        "Title",
        detail,
        evidence=evidence if evidence is not None else {"ports": [80, 443], "why": {"a": 1}},
    )


def _write(store, findings, resources=(), waiver_ids=None):
    return store.write_snapshot(
        started_at="2026-11-01T00:00:00Z",
        finished_at="2026-11-01T00:00:01Z",
        status=SnapshotStatus.COMPLETE,
        runs=[],
        resources=list(resources),
        findings=findings,
        waiver_ids=waiver_ids or {},
    )


def _rows(store) -> int:
    return store.db.execute("SELECT count(*) FROM findings").fetchone()[0]


def _changes(stats) -> tuple[int, int, int]:
    return (stats.findings_added, stats.findings_changed, stats.findings_removed)


def test_an_unchanged_repoll_writes_no_finding_and_reads_back_whole(store) -> None:
    findings = [_finding("a"), _finding("b"), _finding("c", {})]
    first = _write(store, findings)
    second = _write(store, copy.deepcopy(findings))
    assert _changes(second) == (0, 0, 0)
    assert _rows(store) == 3
    assert list(store.findings(second.snapshot_id)) == list(store.findings(first.snapshot_id))


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.evidence["why"].update(a=2),  # one nested value
        lambda f: f.evidence["ports"].append(8080),
        lambda f: setattr(f, "detail", "d2"),
        lambda f: setattr(f, "title", "Title2"),
        lambda f: setattr(f, "status", Status.UNKNOWN),
        lambda f: setattr(f, "severity", Severity.CRITICAL),
    ],
    ids=["evidence-value", "evidence-list", "detail", "title", "status", "severity"],
)
def test_one_attribute_of_one_finding_changed_after_an_unchanged_poll_is_stored(
    store, change
) -> None:
    findings = [_finding("a"), _finding("b")]
    _write(store, findings)
    _write(store, copy.deepcopy(findings))  # the shortcut's case, then a change
    changed = copy.deepcopy(findings)
    change(changed[1])
    before = _rows(store)
    stats = _write(store, changed)
    assert _changes(stats) == (0, 1, 0)
    assert _rows(store) == before + 1
    [now] = [r for r in store.findings(stats.snapshot_id) if r["resource_uid"].endswith("/b")]
    assert (now["title"], now["detail"], now["evidence"], now["status"], now["severity"]) == (
        changed[1].title,
        changed[1].detail,
        changed[1].evidence,
        changed[1].status.value,
        changed[1].severity.value,
    )


def test_a_waiver_added_between_identical_polls_is_stored(store) -> None:
    findings = [_finding("a"), _finding("b")]
    one = _write(store, findings).snapshot_id
    waiver = store.add_waiver(
        Waiver(reason="accepted", owner="alice", fingerprint=findings[0].fingerprint)
    )
    two = _write(store, findings, waiver_ids={findings[0].fingerprint: waiver.id})
    assert _changes(two) == (0, 1, 0)
    [row] = store.diff(one, two.snapshot_id).changed
    assert row["fields"] == ["waived"]


def test_a_finding_gone_or_new_is_stored(store) -> None:
    _write(store, [_finding("a"), _finding("b")])
    assert _changes(_write(store, [_finding("a")])) == (0, 0, 1)
    assert _changes(_write(store, [_finding("a"), _finding("b")])) == (1, 0, 0)


def test_the_same_findings_in_another_order_or_key_order_change_nothing(store) -> None:
    a, b = _finding("a"), _finding("b")
    _write(store, [a, b])
    swapped = _finding("b", {"why": {"a": 1}, "ports": [80, 443]})  # keys reordered
    assert findings_digest({f.fingerprint: f for f in [swapped, a]}, {}) != findings_digest(
        {f.fingerprint: f for f in [a, b]}, {}
    )
    stats = _write(store, [swapped, a])  # the digest differs: compared row by row
    assert _changes(stats) == (0, 0, 0)
    assert _rows(store) == 2


def test_a_snapshot_written_before_the_digest_existed_is_compared_row_by_row(store) -> None:
    findings = [_finding("a"), _finding("b")]
    _write(store, findings)
    store.db.execute("UPDATE snapshots SET findings_digest = NULL")
    store.db.conn.commit()
    assert _changes(_write(store, findings)) == (0, 0, 0)
    changed = copy.deepcopy(findings)
    changed[0].evidence["why"]["a"] = 3
    store.db.execute("UPDATE snapshots SET findings_digest = NULL")
    store.db.conn.commit()
    assert _changes(_write(store, changed)) == (0, 1, 0)


def test_text_that_looks_like_the_digest_separators_cannot_forge_a_match() -> None:
    one = _finding("a", {"x": "1"}, detail="d', 'e")
    two = _finding("a", {"x": "1"}, detail="d")
    two.title = "Title', 'd"
    assert findings_digest({"f": one}, {}) != findings_digest({"f": two}, {})


# -- through the collector and the API emulator --------------------------------------


def _pod(server, *, standalone: bool) -> dict:
    for obj in server.objects():
        owned = bool(obj.get("metadata", {}).get("ownerReferences"))
        if obj.get("kind") == "Pod" and owned is not standalone:
            return copy.deepcopy(obj)
    raise AssertionError("the fixture estate has no such pod")


def _privileged_verdicts(store, snapshot_id: int, name: str) -> list[tuple]:
    uid = next(
        r["uid"] for r in store.resources(snapshot_id) if r["kind"] == "Pod" and r["name"] == name
    )
    return [
        (f["status"], f["detail"], f["evidence"])
        for f in store.findings(snapshot_id)
        if f["check_id"] == "k8s-pod-privileged" and f["resource_uid"] == uid
    ]


def test_a_repoll_through_the_emulator_stores_a_one_attribute_change(store, tmp_path) -> None:
    with server_from_fixtures(token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
        target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
        poller = Poller(store, {"kubernetes": KubernetesCollector(page_size=5)})
        first = poller.poll([target])
        assert first.status is SnapshotStatus.COMPLETE
        again = poller.poll([target])
        assert (again.stats.resources_added, again.stats.resources_changed) == (0, 0)
        assert (again.stats.resources_removed, *_changes(again.stats)) == (0, 0, 0, 0)

        labelled = _pod(server, standalone=False)
        labelled["metadata"].setdefault("labels", {})["tier"] = "gold"
        server.replace(labelled)
        third = poller.poll([target])
        assert (third.stats.resources_changed, third.stats.resources_added) == (1, 0)
        uid = next(
            r["uid"]
            for r in store.resources(third.snapshot_id)
            if r["kind"] == "Pod" and r["name"] == labelled["metadata"]["name"]
        )
        now = {r["uid"]: r for r in store.resources(third.snapshot_id)}[uid]
        then = {r["uid"]: r for r in store.resources(again.snapshot_id)}[uid]
        assert now["attrs"]["labels"]["tier"] == "gold"
        assert "tier" not in then["attrs"]["labels"]

        # The fixture's standalone debug pod runs privileged: one flag turned off.
        risky = _pod(server, standalone=True)
        name = risky["metadata"]["name"]
        [before] = _privileged_verdicts(store, third.snapshot_id, name)
        assert before[0] == "fail"
        context = risky["spec"]["containers"][0]["securityContext"]
        assert context["privileged"] is True
        context["privileged"] = False
        server.replace(risky)
        fourth = poller.poll([target])
        assert fourth.stats.resources_changed == 1
        assert fourth.stats.findings_changed >= 1
        [after] = _privileged_verdicts(store, fourth.snapshot_id, name)
        assert after != before  # its detail no longer names the privileged flag
        assert _privileged_verdicts(store, third.snapshot_id, name) == [before]


def test_evidence_the_digest_cannot_read_falls_back_to_row_by_row(store) -> None:
    import datetime

    odd = _finding("a", {"seen": datetime.date(2026, 11, 1)})  # canonical JSON: str()
    assert findings_digest({odd.fingerprint: odd}, {}) is None
    _write(store, [odd])
    assert store.db.execute("SELECT findings_digest FROM snapshots").fetchone()[0] is None
    assert _changes(_write(store, [copy.deepcopy(odd)])) == (0, 0, 0)
    later = _finding("a", {"seen": datetime.date(2026, 11, 2)})
    assert _changes(_write(store, [later])) == (0, 1, 0)
