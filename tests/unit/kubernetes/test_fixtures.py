"""The fixture estate stays schema-complete: every built-in object deserializes into the
official client's model (kubernetes 37 rejects missing required fields) and carries no
field the model does not know (a typo would otherwise pass silently)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from kubernetes import client

from postureapp.demo.kube_api import BUILTIN_TYPES
from tests.kube import fixture_objects, generate_cluster
from tests.kube.estate import CANARY_SECRET_B64

BUILTIN = {(rt.api_version, rt.kind) for rt in BUILTIN_TYPES}
API = client.ApiClient()


def _model_name(obj: dict[str, Any]) -> str:
    version = obj["apiVersion"].rpartition("/")[2]
    return f"{version.capitalize()}{obj['kind']}"


def _unknown_fields(original: Any, known: Any, path: str = "") -> list[str]:
    if isinstance(original, dict) and isinstance(known, dict):
        missing = [f"{path}.{key}" for key in original if key not in known]
        return missing + [
            item
            for key in original
            if key in known
            for item in _unknown_fields(original[key], known[key], f"{path}.{key}")
        ]
    if isinstance(original, list) and isinstance(known, list):
        return [
            item
            for index, (a, b) in enumerate(zip(original, known, strict=False))
            for item in _unknown_fields(a, b, f"{path}[{index}]")
        ]
    return []


def _check(obj: dict[str, Any]) -> None:
    model = API.deserialize(json.dumps(obj), _model_name(obj), "application/json")
    assert model.metadata.name == obj["metadata"]["name"]
    assert _unknown_fields(obj, API.sanitize_for_serialization(model)) == []


FIXTURES = fixture_objects()


@pytest.mark.parametrize(
    "obj",
    FIXTURES,
    ids=[
        f"{o['kind']}/{o['metadata'].get('namespace', '_')}/{o['metadata']['name']}"
        for o in FIXTURES
    ],
)
def test_fixture_object_is_schema_complete(obj: dict[str, Any]) -> None:
    if (obj["apiVersion"], obj["kind"]) in BUILTIN:
        _check(obj)
    else:  # custom resources have no client model: check the common shape
        assert obj["metadata"]["name"] and isinstance(obj.get("spec"), dict)


def test_the_fixture_estate_covers_what_the_demo_needs() -> None:
    kinds = Counter(o["kind"] for o in FIXTURES)
    assert kinds["Namespace"] >= 5 and kinds["Pod"] >= 5
    secret_types = {o["type"] for o in FIXTURES if o["kind"] == "Secret"}
    assert secret_types >= {
        "Opaque",
        "kubernetes.io/service-account-token",
        "kubernetes.io/dockerconfigjson",
        "kubernetes.io/tls",
        "kubernetes.io/basic-auth",
        "kubernetes.io/ssh-auth",
        "bootstrap.kubernetes.io/token",
    }
    for secret in (o for o in FIXTURES if o["kind"] == "Secret"):
        assert CANARY_SECRET_B64 in secret["data"].values()
    assert any(
        o["kind"] == "PeerAuthentication" and o["spec"]["mtls"]["mode"] == "PERMISSIVE"
        for o in FIXTURES
    )


def test_generated_cluster_size_and_schema() -> None:
    objects = generate_cluster(
        namespaces=4, pods=20, service_accounts=8, bindings=30, secrets=25, services=10
    )
    kinds = Counter(o["kind"] for o in objects)
    assert kinds["Namespace"] == 4 and kinds["Pod"] == 20 and kinds["ServiceAccount"] == 8
    assert kinds["RoleBinding"] + kinds["ClusterRoleBinding"] == 30
    assert kinds["Secret"] == 25 and kinds["Service"] == 10
    assert kinds["Deployment"] == kinds["ReplicaSet"] == 4  # one per five pods
    for obj in objects:
        _check(obj)
    assert generate_cluster(namespaces=2, pods=5) == generate_cluster(namespaces=2, pods=5)
