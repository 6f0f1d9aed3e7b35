"""Each machine format read by a real consumer: our JSON Schema (jsonschema), SARIF by
sarif-tools, OCSF by py-ocsf-models."""

from __future__ import annotations

import copy
import json

import pytest
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud

from postureapp.export import FORMATS, build_document
from postureapp.export.validation import (
    InvalidDocument,
    document_errors,
    load_schema,
    validate_document,
)
from postureapp.model import Target
from postureapp.poll import Poller
from postureapp.store import Store
from tests.conftest import ScriptedCollector, privileged_pod_registry
from tests.export.conftest import render

# -- JSON against our schema ---------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator

    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("which", ["golden_document", "first_document", "hostile_document"])
def test_json_output_validates(which, request):
    document = json.loads(render("json", request.getfixturevalue(which)))
    assert document_errors(document) == []
    validate_document(document)


def test_engine_output_validates_and_every_format_writes(tmp_path):
    """The real pipeline (collector -> engine -> store -> build_document), not a fixture."""
    collector = ScriptedCollector()
    registry = privileged_pod_registry()
    with Store(tmp_path / "cache.db") as store:
        engine = Poller(store, {"kubernetes": collector}, registry=registry)
        collector.pods = {"prod": ["web", "debug"]}
        collector.bad = {"debug"}
        engine.poll([Target("kubernetes", "prod")])
        collector.bad = {"web"}
        collector.unknown = {"stage": {"Pod": "pods is forbidden"}}
        collector.pods["stage"] = ["x"]
        engine.poll([Target("kubernetes", "prod"), Target("kubernetes", "stage")])
        document = build_document(store, store.latest(), registry)
    validate_document(json.loads(render("json", document)))
    assert document["snapshot"]["status"] == "partial"
    assert [row["resource_uid"] for row in document["changes"]["opened"]] == [
        "k8s://prod/shop/Pod/web"
    ]
    for fmt in FORMATS:
        assert render(fmt, document)


def test_a_document_from_before_summary_and_changes_still_validates(golden_document):
    """v1 is additive: an export written before a field existed stays valid."""
    older = copy.deepcopy(golden_document)
    del older["summary"], older["changes"]
    assert document_errors(older) == []


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["findings"][0].update(severity="urgent"), "$.findings[0].severity"),
        (lambda d: d["findings"][1].pop("fingerprint"), "$.findings[1]"),
        (lambda d: d["snapshot"].update(status="done"), "$.snapshot.status"),
        (lambda d: d.update(schema="postureapp/snapshot/v2"), "$.schema"),
        (lambda d: d["collector_runs"][0].update(items=-1), "$.collector_runs[0].items"),
        (lambda d: d["changes"]["opened"][0].update(status="gone"), "$.changes.opened[0].status"),
    ],
)
def test_schema_rejects_a_broken_document(golden_document, mutate, where):
    broken = copy.deepcopy(golden_document)
    mutate(broken)
    errors = document_errors(broken)
    assert errors and errors[0].startswith(where), errors
    with pytest.raises(InvalidDocument) as raised:
        validate_document(broken)
    assert "\n" not in str(raised.value)


# -- SARIF with sarif-tools ----------------------------------------------------------


def _sarif_file(tmp_path, document):
    from sarif.loader import load_sarif_file

    path = tmp_path / "posture.sarif"
    path.write_text(render("sarif", document), encoding="utf-8")
    return path, load_sarif_file(str(path))


def test_sarif_loads_in_sarif_tools_and_lists_our_rules(tmp_path, golden_document):
    from sarif.operations.summary_op import generate_summary
    from sarif.sarif_file import SarifFileSet

    _, sarif_file = _sarif_file(tmp_path, golden_document)
    failing = [f for f in golden_document["findings"] if f["status"] == "fail"]
    assert sarif_file.get_result_count() == len(failing)
    assert sarif_file.get_distinct_tool_names() == ["postureapp"]
    records = sarif_file.get_records()
    for finding, record in zip(failing, records, strict=True):
        assert record["Code"] == finding["check_id"]
        assert sarif_file.get_rules_by_id(record["Code"]), record["Code"]
    by_code = {r["Code"]: r["Severity"] for r in records}
    assert by_code["k8s-admin-service-exposed"] == "error"  # critical
    assert by_code["k8s-secret-stale"] == "note"  # low
    files = SarifFileSet()
    files.add_file(sarif_file)
    summary_path = tmp_path / "summary.txt"
    generate_summary(files, str(summary_path), False)
    summary = summary_path.read_text()
    for finding in failing:
        assert finding["check_id"] in summary
    assert f"error: {sum(f['severity'] in ('critical', 'high') for f in failing)}" in summary


def test_sarif_rules_results_and_suppressions(tmp_path, golden_document):
    log = json.loads(render("sarif", golden_document))
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == {check["id"] for check in golden_document["checks"]}
    rule = rules["k8s-privileged-pod"]
    assert rule["shortDescription"]["text"] == "Privileged pod"
    assert "Remediation: Fix privileged pod." in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["security-severity"] == "8.0"
    assert "CIS Kubernetes 5.2.1" in rule["properties"]["tags"]
    assert rule["helpUri"].startswith("https://kubernetes.io/")
    assert "security-severity" not in rules["k8s-namespace-no-netpol"]["properties"]  # info
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    waived = [r for r in run["results"] if "suppressions" in r]
    assert len(waived) == 1
    assert waived[0]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "Break-glass binding, reviewed quarterly (owner: platform-team)",
            "properties": {"ticket": "SEC-142", "expires_at": "2099-01-01T00:00:00Z"},
        }
    ]
    [admin] = [r for r in run["results"] if r["ruleId"] == "k8s-admin-service-exposed"]
    assert admin["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": "k8s://prod/shop/Service/admin", "name": "admin", "kind": "Service"}
    ]
    fingerprints = {f["check_id"]: f["fingerprint"] for f in golden_document["findings"]}
    assert admin["partialFingerprints"] == {
        "postureFindingFingerprint/v1": fingerprints["k8s-admin-service-exposed"]
    }
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any("prod:us-east-1: failed: ThrottlingException" in text for text in notes)
    assert any("partial; not read: SecretsManagerSecret" in text for text in notes)


def test_sarif_of_a_complete_snapshot_succeeds(first_document):
    run = json.loads(render("sarif", first_document))["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert "toolExecutionNotifications" not in run["invocations"][0]


def test_sarif_invents_a_rule_for_a_check_missing_from_the_catalog(golden_document):
    document = copy.deepcopy(golden_document)
    document["checks"] = [c for c in document["checks"] if c["id"] != "k8s-secret-stale"]
    run = json.loads(render("sarif", document))["runs"][0]
    [result] = [r for r in run["results"] if r["ruleId"] == "k8s-secret-stale"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "k8s-secret-stale"


def test_sarif_pseudo_paths_have_no_uri_scheme():
    from postureapp.export.sarif import pseudo_path

    assert pseudo_path("k8s://prod/shop/Pod/web") == "posture/k8s/prod/shop/Pod/web"
    assert pseudo_path("arn:aws:iam::1:role/x") == "posture/arn/aws/iam/_/1/role/x"
    assert pseudo_path("<x y>") == "posture/%3Cx%20y%3E"
    # Plain uids skip quote(); anything quote() would change still goes through it.
    assert pseudo_path("k8s://c/ns/Pod/a~b.c_d-e") == "posture/k8s/c/ns/Pod/a~b.c_d-e"
    assert pseudo_path("k8s://c/ns/Pod/caf\u00e9%") == "posture/k8s/c/ns/Pod/caf%C3%A9%25"


# -- OCSF with py-ocsf-models ---------------------------------------------------------


def _events(document):
    return [json.loads(line) for line in render("ocsf", document).splitlines()]


@pytest.mark.parametrize("which", ["golden_document", "hostile_document"])
def test_ocsf_events_validate_with_py_ocsf_models(which, request):
    document = request.getfixturevalue(which)
    events = _events(document)
    assert len(events) == len(document["findings"])  # passes included, see ocsf.py
    for event in events:
        model = ComplianceFinding.model_validate(event)
        # py-ocsf-models ignores unknown keys; dumping the model back must give our event
        # (less the cloud profile object, which it does not model and we check apart), so
        # a misspelt or misplaced field fails here instead of vanishing.
        cloud = event.pop("cloud", None)
        assert model.model_dump(mode="json", exclude_none=True) == event
        if cloud is not None:
            Cloud.model_validate(cloud)
            assert event["metadata"]["profiles"] == ["cloud"]


def test_ocsf_mapping(golden_document):
    events = {e["finding_info"]["uid"]: e for e in _events(golden_document)}
    by_check = {}
    for finding in golden_document["findings"]:
        by_check.setdefault(finding["check_id"], []).append(events[finding["fingerprint"]])
    [sg] = by_check["aws-sg-open-ingress"]
    assert (sg["class_uid"], sg["type_uid"], sg["severity_id"]) == (2003, 200301, 5)
    assert sg["compliance"]["status_id"] == 3  # Fail
    assert sg["resources"][0]["region"] == "eu-west-1"
    assert sg["cloud"]["account"]["uid"] == "123456789012"
    [binding] = by_check["k8s-cluster-admin-binding"]
    assert (binding["status_id"], binding["status"]) == (3, "Suppressed")  # waived
    assert binding["unmapped"]["postureapp"]["waiver"]["owner"] == "platform-team"
    assert "cloud" not in binding and "profiles" not in binding["metadata"]
    [unknown] = by_check["aws-secret-not-rotated"]
    assert unknown["compliance"]["status_id"] == 2  # Warning: missing information
    [error] = by_check["aws-cloudtrail-disabled"]
    assert error["compliance"]["status_id"] == 0
    passes = [e for e in by_check["k8s-privileged-pod"] if e["status_code"] == "PASS"]
    assert passes and all(e["compliance"]["status_id"] == 1 for e in passes)
    assert {e["severity_id"] for e in by_check["k8s-namespace-no-netpol"]} == {1}  # info
    assert sg["metadata"]["product"] == {
        "name": "postureapp",
        "vendor_name": "postureapp",
        "version": "0.0.0+golden",
    }
