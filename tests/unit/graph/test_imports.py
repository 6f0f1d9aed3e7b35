"""Every entry point into the graph imports on its own, in a fresh interpreter.

``postureapp.graph`` needs ``postureapp.checks.aws`` / ``postureapp.checks.kubernetes``,
whose package imports ``postureapp.checks.paths``, which needs the graph: which module a
process imports first decides whether that cycle bites, and an in-process test cannot
tell (the modules are already loaded by the time it runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

FIRST_IMPORTS = (
    "postureapp.graph",
    "postureapp.graph.model",
    "postureapp.graph.graph",
    "postureapp.graph.trust",
    "postureapp.graph.cloud",
    "postureapp.graph.kube",
    "postureapp.graph.iam",
    "postureapp.graph.build",
    "postureapp.graph.paths",
    "postureapp.graph.reach",
    "postureapp.graph.credentials",
    "postureapp.tui.screens.blast",
    "checks",
    "postureapp.checks.aws.policy",
    "postureapp.checks.paths",
    "postureapp.checks.paths.exposure",
    "postureapp.checks.paths.trust",
)


@pytest.mark.parametrize("module", FIRST_IMPORTS)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_path_checks_are_registered_and_build_a_graph_after_a_graph_first_import() -> None:
    code = (
        "import postureapp.graph.model\n"
        "from postureapp.checks.registry import REGISTRY\n"
        "from postureapp.inventory import Inventory\n"
        "assert 'path-exposed-admin' in REGISTRY.checks\n"
        "list(REGISTRY.checks['path-exposed-admin'].function(Inventory(resources=[])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
