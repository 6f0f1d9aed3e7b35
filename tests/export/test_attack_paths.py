"""Attack paths in the exports: in the JSON document (and its schema), and in HTML and
Markdown with every outside string escaped."""

from __future__ import annotations

import copy
import json

from postureapp.export.validation import document_errors
from tests.export.conftest import render
from tests.export.fixtures import HOSTILE


def test_the_golden_document_has_one_path_of_hops_and_validates(golden_document):
    (path,) = golden_document["attack_paths"]
    assert path["capability"] == "admin-equivalent" and path["plane"] == "kubernetes"
    assert [h["kind"] for h in path["hops"]] == [
        "endpoint",
        "workload",
        "service-account",
        "k8s-role",
        "capability",
    ]
    assert path["hops"][0]["uid"] == "k8s://prod/shop/Service/admin"
    assert document_errors(golden_document) == []


def test_the_schema_rejects_a_malformed_hop(golden_document):
    broken = copy.deepcopy(golden_document)
    del broken["attack_paths"][0]["hops"][1]["relation"]
    assert document_errors(broken)


def test_a_document_without_paths_still_validates_and_renders(golden_document):
    older = copy.deepcopy(golden_document)
    del older["attack_paths"]
    assert document_errors(older) == []
    assert "Attack paths" not in render("markdown", older)
    assert 'id="attack-paths"' not in render("html", older)


def _hostile(document):
    hostile = copy.deepcopy(document)
    path = hostile["attack_paths"][0]
    for hop, text in zip(path["hops"], HOSTILE, strict=False):
        hop["name"] = text
        hop["evidence"] = {"why": text, "via": text}
    path["summary"] = " -> ".join(HOSTILE)
    return hostile


def test_hostile_names_on_a_path_are_escaped_in_html(golden_document):
    html = render("html", _hostile(golden_document))
    section = html.split('<section id="attack-paths">', 1)[1].split("</section>", 1)[0]
    assert "<img" not in section and "<script" not in section
    assert "&lt;img src=x onerror=alert(1)&gt;" in section


def test_hostile_names_on_a_path_are_escaped_in_markdown(golden_document):
    markdown = render("markdown", _hostile(golden_document))
    section = markdown.split("### Attack paths", 1)[1].split("### Changes", 1)[0]
    assert "<img" not in section and "</script>" not in section
    assert "[bold red]" not in section and "\\[bold red\\]" in section
    assert "\n| --- |" not in section  # line breaks cannot start a table row


def test_the_json_export_round_trips_the_paths(golden_document):
    text = render("json", golden_document)
    assert json.loads(text)["attack_paths"] == golden_document["attack_paths"]
