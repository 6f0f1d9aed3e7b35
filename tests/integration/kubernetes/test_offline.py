"""The offline loader: kubectl dumps in, the same resources as a live collection out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from postureapp.collectors.kubernetes import load_dump, load_path
from postureapp.errors import InputError
from postureapp.model import KindRead
from tests.kube import fixture_objects
from tests.kube.estate import CANARY_ENV_VALUE, CANARY_SECRET_B64

from .conftest import CONTEXT


def kubectl_list(objects) -> dict:
    """What ``kubectl get <kinds> -A -o json`` prints."""
    return {"apiVersion": "v1", "kind": "List", "items": list(objects), "metadata": {}}


def test_offline_matches_the_live_collection(kube_server, target, collector, tmp_path) -> None:
    live = collector.collect(target).resources
    dump = tmp_path / "cluster.json"
    dump.write_text(json.dumps(kubectl_list(kube_server.objects())))

    offline = load_path(dump, scope=CONTEXT)

    live_by_uid = {r.uid: r for r in live if r.kind != "Cluster"}
    offline_by_uid = {r.uid: r for r in offline}
    assert offline_by_uid.keys() == live_by_uid.keys()
    for uid, resource in live_by_uid.items():
        assert offline_by_uid[uid] == resource, uid


def test_secret_values_in_a_dump_never_reach_a_resource(tmp_path) -> None:
    dump = tmp_path / "secrets.yaml"
    dump.write_text(yaml.safe_dump(kubectl_list(fixture_objects())))

    resources = load_path(dump)

    dumped = json.dumps([r.to_dict() for r in resources])
    assert CANARY_SECRET_B64 not in dumped and CANARY_ENV_VALUE not in dumped
    secret = next(r for r in resources if r.name == "legacy-app-env")
    assert secret.attrs["type"] == "Opaque" and secret.scope == "offline"


def test_typed_lists_single_objects_and_directories(tmp_path) -> None:
    objects = fixture_objects()
    pods = [o for o in objects if o["kind"] == "Pod"]
    for pod in pods:  # the API leaves apiVersion/kind out of typed list items
        pod.pop("apiVersion"), pod.pop("kind")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "pods.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods})
    )
    namespaces = [o for o in objects if o.get("kind") == "Namespace"]
    (tmp_path / "namespaces.yml").write_text(yaml.safe_dump_all(namespaces))
    (tmp_path / "empty-list.json").write_text(json.dumps(kubectl_list([])))
    (tmp_path / ".hidden.json").write_text("not even json")
    (tmp_path / "notes.txt").write_text("ignored")

    dump = load_dump(tmp_path, scope="snap")

    # A kind-less empty List named for no kind says nothing; a typed list does.
    assert dump.kinds == {"Pod": KindRead.READ, "Namespace": KindRead.READ}
    assert len(dump.files) == 3
    kinds = [r.kind for r in dump.resources]
    assert kinds.count("Pod") == len(pods) and kinds.count("Namespace") == len(namespaces)
    assert {r.scope for r in dump.resources} == {"snap"}


def test_unread_kinds_are_skipped(tmp_path) -> None:
    objects = fixture_objects()  # holds a Gatekeeper constraint, a kind not read
    (tmp_path / "all.json").write_text(json.dumps(kubectl_list(objects)))

    dump = load_dump(tmp_path / "all.json")

    assert dump.skipped["K8sRequiredLabels"] == 1
    assert "K8sRequiredLabels" not in {r.kind for r in dump.resources}
    assert {"Deployment", "ReplicaSet"} <= {r.kind for r in dump.resources}


BAD_FILES = {
    "empty.json": ("", "the file is empty"),
    "blank.yaml": ("  \n\n", "the file is empty"),
    "comments.yaml": ("# nothing here\n", "holds no YAML document"),
    "truncated.json": ('{"apiVersion": "v1", "kind": "List", "items": [{"meta', "truncated JSON"),
    "broken.yaml": ("kind: List\nitems: [\n  - {a: 1\n", "malformed or truncated YAML"),
    "kubeconfig.yaml": ("apiVersion: v1\nkind: Config\nclusters: []\n", "does not read (Config)"),
    "array.json": ("[1, 2, 3]", "not Kubernetes output"),
    "terraform.json": ('{"version": 4, "resources": []}', "not Kubernetes output"),
    "configmaps.json": (
        json.dumps(
            kubectl_list([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}])
        ),
        "does not read (ConfigMap)",
    ),
    "items.json": ('{"apiVersion": "v1", "kind": "List", "items": {"a": 1}}', "is not a list"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_one_clear_input_error(tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(InputError) as caught:
        load_path(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message
    assert "\n" not in message


def test_a_binary_file_is_an_input_error(tmp_path) -> None:
    path = tmp_path / "dump.json"
    path.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    with pytest.raises(InputError, match="not a text file"):
        load_path(path)


def test_a_bad_file_in_a_directory_names_that_file(tmp_path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(kubectl_list(fixture_objects()[:3])))
    (tmp_path / "bad.json").write_text('{"kind": "List", "items": [')
    with pytest.raises(InputError, match=r"bad\.json: malformed or truncated JSON"):
        load_path(tmp_path)


def test_missing_path_and_empty_directory(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load_path(tmp_path / "missing.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.json or \.yaml files"):
        load_path(tmp_path / "empty")


@pytest.mark.parametrize(
    "encoding",
    ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"],
    ids=["utf-8 with BOM", "PowerShell utf-16 (BOM)", "utf-16-le no BOM", "utf-16-be no BOM"],
)
def test_dumps_in_the_encodings_windows_writes_load(tmp_path: Path, encoding: str) -> None:
    objects = [o for o in fixture_objects() if o["kind"] in ("Namespace", "Pod")]
    text = json.dumps(kubectl_list(objects), indent=2)
    (tmp_path / "cluster.json").write_bytes(text.encode(encoding))
    (tmp_path / "cluster.yaml").write_bytes(yaml.safe_dump(kubectl_list(objects)).encode(encoding))
    for name in ("cluster.json", "cluster.yaml"):
        dump = load_dump(tmp_path / name)
        assert {r.kind for r in dump.resources} == {"Namespace", "Pod"}, (encoding, name)
    # The dispatcher classifies and loads it the same way.
    from postureapp.collectors.offline import offline_targets

    [target] = offline_targets([tmp_path / "cluster.json"])
    assert target.options["provider"] == "kubernetes"
