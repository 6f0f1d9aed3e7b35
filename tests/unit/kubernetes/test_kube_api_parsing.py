"""The test server's selector parsing and continue tokens, without HTTP."""

from __future__ import annotations

import pytest

from postureapp.demo.kube_api import (
    BUILTIN_TYPES,
    _BadRequest,
    _decode_continue,
    _encode_continue,
    _version_priority,
    parse_field_selector,
    parse_label_selector,
)

SECRETS = next(rt for rt in BUILTIN_TYPES if rt.plural == "secrets")
LABELS = {"app": "web", "tier": "front", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("app=web", True),
        ("app==web,tier=front", True),
        ("app=web,tier=back", False),
        ("app!=api", True),
        ("missing!=x", True),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("app in (api, web)", True),
        ("app notin (api,web)", False),
        ("tier in (front),app notin (api)", True),
        ("empty=", True),
    ],
)
def test_label_selector(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector)(LABELS) is matches


def test_bad_label_selector() -> None:
    with pytest.raises(_BadRequest, match="unable to parse requirement"):
        parse_label_selector("app in web")


def test_field_selector() -> None:
    secret = {"metadata": {"name": "a", "namespace": "n"}, "type": "Opaque"}
    assert parse_field_selector("type=Opaque,metadata.namespace=n", SECRETS)(secret)
    assert not parse_field_selector("type!=Opaque", SECRETS)(secret)
    with pytest.raises(_BadRequest, match=r"field label not supported: spec\.x"):
        parse_field_selector("spec.x=1", SECRETS)


def test_continue_tokens_round_trip_and_reject_garbage() -> None:
    token = _encode_continue(1042, ("payments", "api-0"))
    assert _decode_continue(token) == (1042, ("payments", "api-0"))
    assert _decode_continue(_encode_continue(7, ("", "cluster-admin"))) == (
        7,
        ("", "cluster-admin"),
    )
    for garbage in ("", "!!!", "bm90LWpzb24", "eyJ2IjogMX0"):
        assert _decode_continue(garbage) is None


def test_version_priority() -> None:
    versions = ["v1alpha1", "v1beta1", "v2", "v1", "v1beta2", "foo"]
    assert sorted(versions, key=_version_priority, reverse=True) == [
        "v2",
        "v1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
        "foo",
    ]
