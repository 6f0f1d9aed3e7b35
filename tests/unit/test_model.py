from postureapp.model import Finding, Resource, Severity, Status, View, fingerprint, isoformat


def test_fingerprint_depends_only_on_check_and_resource():
    first = Finding("c-one", "k8s://a/_/Pod/x", Status.FAIL, Severity.HIGH, View.IDENTITIES, "t")
    second = Finding(
        "c-one", "k8s://a/_/Pod/x", Status.PASS, Severity.LOW, View.IDENTITIES, "other", "d"
    )
    assert first.fingerprint == second.fingerprint == fingerprint("c-one", "k8s://a/_/Pod/x")
    assert fingerprint("c-two", "k8s://a/_/Pod/x") != first.fingerprint


def test_content_hash_ignores_key_order_but_not_values():
    a = Resource("u", "kubernetes", "c", "Pod", "n", attrs={"a": 1, "b": [1, 2]})
    b = Resource("u", "kubernetes", "c", "Pod", "n", attrs={"b": [1, 2], "a": 1})
    c = Resource("u", "kubernetes", "c", "Pod", "n", attrs={"b": [2, 1], "a": 1})
    assert a.content_hash() == b.content_hash() != c.content_hash()


def test_severity_parse_and_rank():
    assert Severity.parse(" HIGH ") is Severity.HIGH
    assert Severity.CRITICAL.rank > Severity.HIGH.rank > Severity.INFO.rank
    try:
        Severity.parse("severe")
    except ValueError as error:
        assert "critical" in str(error)
    else:
        raise AssertionError("expected ValueError")


def test_isoformat_is_utc_with_z():
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert isoformat(moment) == "2026-01-02T01:04:05Z"
