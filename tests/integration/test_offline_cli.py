"""``posture collect --from``: dumps judged like a live poll; bad files touch nothing."""

from __future__ import annotations

import hashlib
import json
import shutil

from tests.integration.test_cli import posture
from tests.kube.estate import CANARY_ENV_VALUE, CANARY_SECRET_VALUE, fixtures_dir


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_kubectl_dump_is_collected_and_missing_kinds_are_unknown(tmp_path):
    db = tmp_path / "cache.db"
    result = posture("collect", "--from", str(fixtures_dir()), "--db", str(db))
    assert result.returncode == 3, result.stderr  # partial: the dump lacks some kinds
    assert "not in the offline dump" in result.stderr
    document = json.loads(posture("export", "--db", str(db), check=True).stdout)
    kinds = {resource["kind"] for resource in document["resources"]}
    assert {"Pod", "ServiceAccount", "ClusterRoleBinding", "Secret"} <= kinds
    [run] = document["collector_runs"]
    assert run["provider"] == "kubernetes" and run["status"] == "partial"
    assert (
        posture(
            "collect", "--from", str(fixtures_dir()), "--allow-partial", "--db", str(db)
        ).returncode
        == 0
    )


def test_offline_secrets_never_reach_the_cache(tmp_path):
    db = tmp_path / "cache.db"
    posture(
        "collect", "--from", str(fixtures_dir()), "--allow-partial", "--db", str(db), check=True
    )
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    for canary in (CANARY_SECRET_VALUE, CANARY_ENV_VALUE):
        assert canary.encode() not in raw
    exported = posture("export", "--db", str(db), check=True).stdout
    assert CANARY_SECRET_VALUE not in exported and CANARY_ENV_VALUE not in exported


def test_bad_dumps_exit_2_and_leave_the_cache_alone(tmp_path):
    db = tmp_path / "cache.db"
    posture(
        "collect", "--from", str(fixtures_dir()), "--allow-partial", "--db", str(db), check=True
    )
    posture("export", "--db", str(db), check=True)  # checkpoint-free read
    before = _digest(db)
    truncated = tmp_path / "pods.json"
    truncated.write_text('{"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": ')
    wrong = tmp_path / "deploy.json"
    wrong.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMapList", "items": [7]}))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    folder = tmp_path / "dumps"
    shutil.copytree(fixtures_dir(), folder)
    (folder / "broken.yaml").write_text("kind: List\nitems:\n  - [unclosed\n")
    for bad in (truncated, wrong, empty, folder):
        result = posture("collect", "--from", str(bad), "--db", str(db))
        assert result.returncode == 2, (bad, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("posture: error:") and "Traceback" not in result.stderr
    assert _digest(db) == before
    assert (
        len(
            json.loads(
                posture("diff", "1", "1", "--format", "json", "--db", str(db), check=True).stdout
            )["opened"]
        )
        == 0
    )
