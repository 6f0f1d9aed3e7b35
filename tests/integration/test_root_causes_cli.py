"""Root causes through the installed ``posture``: a live collect of the fixture cluster,
then ``posture export --format json`` carries ``root_causes`` beside untouched v1 fields."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from postureapp.export.validation import document_errors
from postureapp.model import Severity, split_k8s_uid
from tests.integration.test_cli import posture
from tests.kube import server_from_fixtures

# One xdist worker runs this module: the collected fixture cluster
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("root-causes-cli")


def collect_fixture_cluster(folder, context="fx"):
    """A cache holding one snapshot of the fixture cluster (context ``fx``), collected
    by the CLI into ``folder``."""
    db = folder / "cache.db"
    with server_from_fixtures() as server:
        kubeconfig = server.write_kubeconfig(folder / "kubeconfig", context=context)
        env = {"KUBECONFIG": str(kubeconfig), "POSTURE_DB": str(db)}
        result = posture("collect", "--context", context, "--allow-partial", env=env)
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    return collect_fixture_cluster(tmp_path_factory.mktemp("rootcauses"))


def export(db) -> dict:
    result = posture("export", "--format", "json", env={"POSTURE_DB": str(db)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_export_lists_root_causes_with_their_findings(collected):
    document = export(collected)
    assert document_errors(document) == []
    causes = document["root_causes"]
    findings = {f["fingerprint"]: f for f in document["findings"]}
    # the fixture's ClusterRoleBinding to cluster-admin fails seven RBAC checks: one cause
    (admin,) = [c for c in causes if "ClusterRoleBinding ci-deployer-admin" in c["label"]]
    assert admin["kind"] == "binding" and admin["count"] == 7 == len(admin["fingerprints"])
    assert {findings[fp]["resource_uid"] for fp in admin["fingerprints"]} == {
        "k8s://fx/_/ClusterRoleBinding/ci-deployer-admin"
    }
    assert {c["kind"] for c in causes} >= {"binding", "mesh", "netpol", "exposure"}
    for cause in causes:
        rows = [findings[fp] for fp in cause["fingerprints"]]  # every one is in the export
        assert all(row["status"] != "pass" for row in rows)
        worst = max(rows, key=lambda r: Severity(r["severity"]).rank)["severity"]
        assert cause["severity"] == worst and cause["count"] == len(rows) >= 2
    listed = [fp for cause in causes for fp in cause["fingerprints"]]
    assert len(listed) == len(set(listed))  # a finding has one root cause at most


def test_v1_fields_are_unchanged_by_the_addition(collected, tmp_path):
    """The same snapshot without its stored causes (as an older release wrote it) exports
    every other field identically, and leaves ``root_causes`` out."""
    older = tmp_path / "older.db"
    shutil.copy(collected, older)
    with sqlite3.connect(older) as conn:
        conn.execute("DELETE FROM snapshot_derived WHERE name = 'root_causes'")
    conn.close()
    with_causes, without = export(collected), export(older)
    assert "root_causes" not in without
    for document in (with_causes, without):
        document.pop("generated_at")
    assert with_causes.pop("root_causes")
    assert with_causes == without


def test_an_eks_context_name_holding_a_slash_keeps_every_cause(collected, tmp_path):
    """EKS names its kube contexts by the cluster's ARN (``...:cluster/prod``): the "/" in
    the cluster must not shift namespace, kind and name when a uid is read back."""
    eks = "arn:aws:eks:eu-west-1:111122223333:cluster/prod"
    document = export(collect_fixture_cluster(tmp_path, context=eks))
    assert document_errors(document) == []

    def causes(doc, cluster):
        return sorted(
            (c["kind"], c["label"].replace(cluster, "CLUSTER"), c["count"])
            for c in doc["root_causes"]
        )

    assert causes(document, eks) == causes(export(collected), "fx")
    for finding in document["findings"]:
        uid = finding["resource_uid"]
        if uid.startswith("k8s://") and finding.get("resource_name"):
            cluster, _, _, name = split_k8s_uid(uid)
            assert cluster == eks
            assert finding["resource_name"] == name
