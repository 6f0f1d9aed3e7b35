"""CONTRIBUTING.md says a new check is two files: the check (function and metadata) and
its test. This proves the first half: a check defined in a module nobody else knows
about shows up in ``posture checks``, in the governance control it names and in the
exports' rule list, with no list anywhere else edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.kube.estate import fixtures_dir

NEW_CHECK = '''
from postureapp.checks.registry import Result, check
from postureapp.model import Severity, Status, View


@check(
    id="k8s-contrib-binding-named-tmp",
    title="ClusterRoleBinding with a temporary-looking name",
    view=View.IDENTITIES,
    severity=Severity.LOW,
    provider="kubernetes",
    requires=("ClusterRoleBinding",),
    remediation="Delete bindings made for a one-off task once the task is done.",
    frameworks={"ISO 27001:2022": "A.5.18", "SOC 2": "CC6.2"},
    no_benchmark="no CIS recommendation on binding names",
    controls=("k8s-least-privilege",),
    references=("https://kubernetes.io/docs/reference/access-authn-authz/rbac/",),
)
def binding_named_tmp(inv):
    """A ClusterRoleBinding whose name says it was meant to be temporary."""
    for binding in inv.of("kubernetes", "ClusterRoleBinding"):
        temporary = any(word in binding.name for word in ("tmp", "temp", "debug"))
        yield Result(binding, Status.FAIL if temporary else Status.PASS, binding.name)
'''
CHECK_ID = "k8s-contrib-binding-named-tmp"
# The unchanged CLI, after importing the new module (what a plane package's __init__
# import does for a module in checks/<plane>/).
CLI = "import sys; from postureapp.cli import main; sys.argv[0] = 'posture'; main()"


def posture(tmp_path, *args, with_check=True, expect=(0,)):
    env = {**os.environ, "POSTURE_CONFIG": str(tmp_path / "posture.toml")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    code = f"import contrib_check; {CLI}" if with_check else CLI
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode in expect, result.stderr
    return result.stdout


def test_a_new_check_needs_no_edit_outside_its_own_module(tmp_path):
    (tmp_path / "contrib_check.py").write_text(textwrap.dedent(NEW_CHECK))
    (tmp_path / "posture.toml").write_text("")
    db = str(tmp_path / "cache.db")

    listed = {c["id"]: c for c in json.loads(posture(tmp_path, "checks", "--format", "json"))}
    assert listed[CHECK_ID]["frameworks"] == {"ISO 27001:2022": ["A.5.18"], "SOC 2": ["CC6.2"]}
    assert CHECK_ID not in {
        c["id"]
        for c in json.loads(posture(tmp_path, "checks", "--format", "json", with_check=False))
    }

    # Exit 3: the offline dump lacks a few optional kinds (partial), as documented.
    posture(tmp_path, "collect", "--from", str(fixtures_dir()), "--db", db, expect=(0, 3))
    document = json.loads(posture(tmp_path, "export", "--format", "json", "--db", db, "-o", "-"))
    control = next(c for c in document["controls"] if c["id"] == "k8s-least-privilege")
    assert CHECK_ID in control["checks"]
    assert sum(control["evidence"][CHECK_ID].values()) > 0  # judged the fixture's bindings

    sarif = json.loads(posture(tmp_path, "export", "--format", "sarif", "--db", db, "-o", "-"))
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules[CHECK_ID]["properties"]["frameworks"] == {
        "ISO 27001:2022": ["A.5.18"],
        "SOC 2": ["CC6.2"],
    }
