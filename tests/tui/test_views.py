"""The dashboard's read-only query layer (postureapp.store.views), without Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

from postureapp.model import SnapshotStatus, Waiver
from postureapp.store import Store
from postureapp.store.views import (
    DashboardQueries,
    Sort,
    parse_filter,
    parse_uid,
    posture_score,
    score_trend,
)
from tests.tui.estate import NOW, clock


@pytest.fixture
def queries(cache):
    path, _ = cache
    store = Store(path)
    queries = DashboardQueries(store, clock=clock)
    queries.reload()
    yield queries
    store.close()


def _all(rows):
    return [rows.row(index) for index in range(len(rows))]


def test_views_module_does_not_import_textual():
    code = (
        "import sys, postureapp.store.views, postureapp.tui\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_score_definition():
    assert posture_score([]).value is None  # nothing judged is not 100
    only_unknown = posture_score([("unknown", "critical", False, 5)])
    assert only_unknown.value is None and only_unknown.unknown == 5
    score = posture_score(
        [
            ("pass", "low", False, 10),  # P = 10
            ("fail", "critical", False, 1),  # F = 10
            ("fail", "high", True, 3),  # waived: in neither
            ("unknown", "high", False, 2),  # never a pass
            ("pass", "info", False, 100),  # weight 0
        ]
    )
    assert score.value == 50.0
    assert (score.failing, score.waived, score.unknown, score.passing) == (1, 3, 2, 110)


def test_parse_filter_terms_and_errors():
    spec = parse_filter('web sev:high -ns:kube-system uid:"k8s://a b/c" bogus:x arn:aws:iam::1:r')
    assert spec.words == ("web", "arn:aws:iam::1:r")
    assert [(t.key, t.value, t.negate) for t in spec.terms] == [
        ("sev", "high", False),
        ("ns", "kube-system", True),
        ("uid", "k8s://a b/c", False),
    ]
    assert len(spec.errors) == 1 and "bogus" in spec.errors[0]
    assert parse_filter("sev:hgh").errors
    assert parse_filter("status:nope").errors
    assert parse_filter("kind:").terms == ()  # half typed: ignored, no error


def test_parse_filter_exclusions_and_malformed_terms():
    spec = parse_filter('provider:aws -bob -"two words" -ns:dev')
    assert spec.excluded == ("bob", "two words")
    assert [(t.key, t.value, t.negate) for t in spec.terms] == [
        ("provider", "aws", False),
        ("ns", "dev", True),
    ]
    assert not spec.errors
    assert parse_filter("web -").errors  # a lone "-" says what it needs
    assert "unknown provider 'azure'" in parse_filter("provider:azure").errors[0]
    assert parse_filter("provider:k*").terms  # a wildcard is not an unknown provider
    assert parse_filter("-status:all").errors
    assert parse_filter("sev:").errors == ()  # still being typed
    # the resource browser knows fewer keys, and says so
    from postureapp.store.filters import RESOURCE_KEYS

    assert "does not apply here" in parse_filter("sev:high", RESOURCE_KEYS).errors[0]


def test_a_context_narrows_every_query(queries):
    everything = _all(queries.query("identities", parse_filter("status:all"), Sort()))
    names = {context.name for context in queries.contexts()}
    assert {"prod-eu", "staging", "123456789012", "123456789012/global"} <= names
    queries.set_scope("123456789012")
    scoped = _all(queries.query("identities", parse_filter("status:all"), Sort()))
    assert scoped and all(row["scope"].startswith("123456789012/") for row in scoped)
    assert len(scoped) < len(everything)
    counts = queries.check_counts()
    assert not any(check.startswith("k8s-") for check in counts)  # governance follows
    queries.set_scope(None)
    assert len(_all(queries.query("identities", parse_filter("status:all"), Sort()))) == len(
        everything
    )


def test_requirement_status_reads_its_evidence():
    from types import SimpleNamespace

    from postureapp.model import ControlStatus
    from postureapp.store.frameworks import combine, requirements

    assert combine(["pass", "pass"]) == "pass"
    assert combine(["pass", "fail"]) == "partial"
    assert combine(["fail", "unknown"]) == "fail"
    assert combine(["pass", "unknown"]) == "unknown"  # pass only when all evidence passes
    assert combine([]) == "unknown"
    control = SimpleNamespace(
        id="c1",
        frameworks={"ISO 27001:2022": ["A.8.2"]},
        checks=["a"],
        status=ControlStatus.PASS,
    )
    check = SimpleNamespace(id="b", frameworks={"ISO 27001:2022": ["A.8.2"], "CIS AWS": ["1.1"]})
    counts = {"a": {"pass": 3}, "b": {"fail": 1}}
    (iso,) = requirements("ISO 27001:2022", [control], [check], counts)
    assert (iso.id, iso.status, iso.checks) == ("A.8.2", "partial", ["a", "b"])
    assert iso.coverage == 0.75
    (cis,) = requirements("CIS", [control], [check], counts)
    assert (cis.label, cis.status) == ("AWS 1.1", "fail")


def test_reads_leave_no_transaction_open(queries):
    # an open transaction would pin the UI to an old WAL snapshot (and hold a lock)
    queries.reload(force=True)
    queries.query("identities", parse_filter("x"), Sort())
    queries.overview()
    assert not queries.conn.in_transaction


def test_default_query_hides_passes_and_waived(queries):
    rows = _all(queries.query("endpoints", parse_filter(""), Sort()))
    assert rows and all(row["status"] != "pass" for row in rows)
    assert not any(row["name"] == "bastion" for row in rows)  # live waiver
    shown = _all(queries.query("endpoints", parse_filter(""), Sort(), show_waived=True))
    assert any(row["name"] == "bastion" and row["waiver"] == 1 for row in shown)
    # expired waiver: shown, flagged
    identities = _all(queries.query("identities", parse_filter("alice"), Sort()))
    assert any(row["waiver"] == 2 for row in identities)
    assert queries.hidden_waived("endpoints") == 1


def test_filters_match_python(queries):
    everything = _all(queries.query("identities", parse_filter("status:all"), Sort()))
    cases = {
        "sev:high": lambda r: r["severity_rank"] >= 3 and r["status"] != "pass",
        "sev:=high": lambda r: r["severity"] == "high" and r["status"] != "pass",
        "ns:payments status:all": lambda r: r["namespace"] == "payments",
        "ns:pay* status:fail": lambda r: r["namespace"].startswith("pay") and r["status"] == "fail",
        "kind:pod status:all": lambda r: r["kind"] == "Pod",
        "provider:aws": lambda r: r["provider"] == "aws" and r["status"] != "pass",
        "check:aws-iam-role-admin status:all": lambda r: r["check_id"] == "aws-iam-role-admin",
        "-kind:Pod -kind:ServiceAccount": lambda r: (
            r["kind"] not in ("Pod", "ServiceAccount") and r["status"] != "pass"
        ),
        "status:unknown": lambda r: r["status"] == "unknown",
        "PAYMENTS status:all": lambda r: "payments" in (r["resource_uid"] + r["name"]).lower(),
        # issue 16: "-word" excludes a free word (it used to look for "-payments")
        "-payments status:all": lambda r: (
            "payments"
            not in (r["title"] + r["resource_uid"] + r["name"] + r["check_id"] + r["scope"]).lower()
        ),
        "provider:aws -alice": lambda r: (
            r["provider"] == "aws"
            and r["status"] != "pass"
            and "alice" not in (r["resource_uid"] + r["name"]).lower()
        ),
    }
    for text, predicate in cases.items():
        got = {row["fid"] for row in _all(queries.query("identities", parse_filter(text), Sort()))}
        want = {row["fid"] for row in everything if predicate(row)}
        assert got == want, text


def test_sorting(queries):
    spec = parse_filter("status:all")
    by_name = [
        r["name"].lower() for r in _all(queries.query("identities", spec, Sort("name", False)))
    ]
    assert by_name == sorted(by_name)
    ranks = [r["severity_rank"] for r in _all(queries.query("identities", spec, Sort()))]
    assert ranks == sorted(ranks, reverse=True)
    ages = [r["first_seen"] for r in _all(queries.query("identities", spec, Sort("age", True)))]
    assert ages == sorted(ages)  # oldest first


def test_like_wildcards_are_literal(queries):
    assert len(queries.query("identities", parse_filter("%"), Sort())) == 0
    assert len(queries.query("identities", parse_filter("s-a"), Sort())) > 0  # payments-api
    assert len(queries.query("identities", parse_filter("s_a"), Sort())) == 0


def test_overview_matches_store_diff(queries):
    store = queries.store
    overview = queries.overview()
    diff = store.diff(queries.previous.id, queries.snapshot.id)
    assert (overview.opened, overview.resolved) == (len(diff.opened), len(diff.resolved))
    # between the first and second poll a secret was rotated: resolved must count it
    queries.previous = store.snapshot(1)
    opened, resolved = queries.changes_since_previous()
    full = store.diff(1, queries.snapshot.id)
    assert (opened, resolved) == (len(full.opened), len(full.resolved))
    assert resolved >= 1
    assert overview.snapshot.status is SnapshotStatus.PARTIAL
    assert overview.top_risks[0]["severity"] == "critical"
    assert overview.unknown  # staging failed: its findings are unknown, not passing


def test_trend_matches_per_snapshot_score(queries):
    store = queries.store
    points = score_trend(store)
    assert [snapshot_id for snapshot_id, _ in points] == [1, 2, 3]
    for snapshot_id, value in points:
        counts = {}
        for row in store.findings(snapshot_id):
            key = (row["status"], row["severity"], row["waiver_id"] is not None)
            counts[key] = counts.get(key, 0) + 1
        assert value == posture_score((*key, n) for key, n in counts.items()).value


def test_finding_detail_and_related(queries):
    rows = _all(queries.query("identities", parse_filter("check:k8s-sa-token-automount"), Sort()))
    account = next(row for row in rows if row["name"] == "payments-api")
    detail = queries.finding(account["fid"])
    assert detail["check"]["remediation"].startswith("Set automountServiceAccountToken")
    assert detail["history"]
    related = {(r["kind"], r["name"]) for r in detail["related"]}
    assert ("Pod", "payments-api-6b7f") in related  # a pod using this service account
    assert ("Pod", "debug-shell") in related
    assert all(
        r["kind"] != "ServiceAccount" or r["name"] != "payments-api" for r in detail["related"]
    )


def test_waivers_are_live(queries):
    rows = _all(queries.query("secrets", parse_filter("stripe"), Sort()))
    target = rows[0]
    queries.store.add_waiver(
        Waiver(
            fingerprint=target["fingerprint"],
            reason="test",
            owner="me",
            expires_at="2030-01-01T00:00:00Z",
        )
    )
    queries.apply_waivers()
    assert target["fid"] not in {
        r["fid"] for r in _all(queries.query("secrets", parse_filter(""), Sort()))
    }
    # a glob waiver (check id + resource glob) matches like Store.waiver_matcher
    queries.store.add_waiver(
        Waiver(
            check_id="k8s-pod-privileged",
            resource_glob="k8s://prod-eu/monitoring/*",
            reason="x",
            owner="y",
        )
    )
    queries.apply_waivers()
    names = {r["name"] for r in _all(queries.query("identities", parse_filter(""), Sort()))}
    assert "node-exporter-x2k" not in names and "payments-api-6b7f" in names


def test_missing_resources_are_described(queries):
    rows = _all(queries.query("identities", parse_filter("status:unknown"), Sort()))
    cluster = next(row for row in rows if row["kind"] == "Cluster")  # the whole cluster
    assert (cluster["name"], cluster["scope"]) == ("staging", "staging")
    carried = [row for row in rows if row["resource_uid"].startswith("k8s://staging/shop/")]
    assert carried and all(row["kind"] for row in carried)


def test_parse_uid():
    assert parse_uid("k8s://prod/shop/Pod/web") == ("Pod", "web", "shop", "prod", "kubernetes")
    assert parse_uid("k8s://prod/_/ClusterRole/admin")[2] == ""
    assert parse_uid("arn:aws:iam::123:role/x")[:4] == ("role", "x", "", "123/global")


def test_snapshot_near(queries):
    assert queries.snapshot_near(24).id == 2
    assert queries.snapshot_near(24 * 7).id == 1
    assert queries.clock() == NOW


def test_waiver_flags_agree_with_store_matcher(queries):
    store = queries.store
    store.add_waiver(
        Waiver(
            check_id="k8s-sa-token-automount",
            resource_glob="k8s://prod-eu/*",
            reason="r",
            owner="o",
        )
    )
    queries.apply_waivers()
    matcher = store.waiver_matcher(now=NOW)
    for view in ("identities", "endpoints", "secrets", "governance"):
        for row in _all(queries.query(view, parse_filter("status:all"), Sort(), show_waived=True)):
            live = matcher(row["fingerprint"], row["check_id"], row["resource_uid"]) is not None
            assert live == (row["waiver"] == 1), row


def test_empty_cache(tmp_path):
    with Store(tmp_path / "empty.db") as store:
        queries = DashboardQueries(store, clock=clock)
        assert queries.reload(force=True)
        assert queries.snapshot is None
        assert len(queries.query("identities", parse_filter(""), Sort())) == 0
        overview = queries.overview()
        assert overview.score.value is None and overview.opened is None
        assert score_trend(store) == []
        assert queries.header().snapshot is None


def test_rows_from_before_a_rebuild_are_not_misread(queries):
    rows = queries.query("identities", parse_filter(""), Sort())
    first = rows.row(0)  # cached page: still the row it was
    queries.reload(force=True)
    assert rows.row(0) == first
    rows._pages.clear()  # a page not read before the rebuild: blank, never another row
    assert rows.row(0)["fid"] is None
    assert rows.index_of(first["fid"]) is None
