"""The documented ClusterRole grants exactly what the collector reads."""

from __future__ import annotations

import json

import yaml
from kubernetes import client

from postureapp.collectors.kubernetes.kinds import ALL_KINDS
from postureapp.collectors.kubernetes.permissions import (
    CLUSTER_ROLE_BINDING_YAML,
    CLUSTER_ROLE_YAML,
)


def _role() -> client.V1ClusterRole:
    data = yaml.safe_load(CLUSTER_ROLE_YAML)
    return client.ApiClient().deserialize(json.dumps(data), "V1ClusterRole", "application/json")


def test_the_cluster_role_is_valid_and_read_only() -> None:
    role = _role()
    assert role.metadata.name == "postureapp-reader"
    for rule in role.rules:
        assert set(rule.verbs) <= {"get", "list"}


def test_the_cluster_role_covers_exactly_what_is_read() -> None:
    granted = {
        (group, resource)
        for rule in _role().rules
        if rule.resources
        for group in rule.api_groups
        for resource in rule.resources
        if "list" in rule.verbs
    }
    assert granted == {(spec.group, spec.plural) for spec in ALL_KINDS}


def test_the_cluster_role_warns_about_secrets() -> None:
    assert 'list" on secrets is enough to read every secret VALUE' in CLUSTER_ROLE_YAML


def test_the_binding_example_refers_to_the_role() -> None:
    binding = yaml.safe_load(CLUSTER_ROLE_BINDING_YAML)
    assert binding["roleRef"]["name"] == yaml.safe_load(CLUSTER_ROLE_YAML)["metadata"]["name"]
