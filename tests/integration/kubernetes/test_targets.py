"""Which kube contexts become targets."""

from __future__ import annotations

import pytest

from postureapp.collectors.kubernetes import targets
from postureapp.errors import InputError
from postureapp.model import Target
from tests.kube import write_kubeconfig


@pytest.fixture
def kubeconfig(tmp_path):
    return write_kubeconfig(
        tmp_path / "kubeconfig",
        {"prod": ("https://prod.example:6443", "a"), "staging": ("https://stg.example", "b")},
        current="staging",
    )


def test_no_context_means_the_current_one(kubeconfig) -> None:
    assert targets([], str(kubeconfig)) == [
        Target("kubernetes", "staging", {"kubeconfig": str(kubeconfig)})
    ]


def test_named_contexts_in_order_without_duplicates(kubeconfig) -> None:
    names = [t.name for t in targets(["prod", "staging", "prod"], str(kubeconfig))]
    assert names == ["prod", "staging"]


def test_kubeconfig_from_the_environment(kubeconfig, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert targets([], None) == [Target("kubernetes", "staging", {})]


def test_an_unknown_context_is_an_input_error(kubeconfig) -> None:
    with pytest.raises(InputError, match=r"context 'dev' not found .*available: prod, staging"):
        targets(["dev"], str(kubeconfig))


def test_a_missing_kubeconfig_is_an_input_error(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(InputError, match="cannot read kubeconfig"):
        targets([], str(tmp_path / "missing"))


def test_in_cluster_when_there_is_no_kubeconfig(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert targets([], None) == [Target("kubernetes", "in-cluster", {"in_cluster": True})]
