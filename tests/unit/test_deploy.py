"""What runs the fleet on Kubernetes and AWS, checked as far as a machine without a
cluster or an AWS account can: every manifest against the Kubernetes OpenAPI schemas
(``kubernetes-validate``, bundled, no network), every container command line parsed by
``posture``'s own CLI as kubelet would hand it over, the files the pods read (kubeconfig,
config.toml) loaded by the code that reads them, and the CloudFormation templates
through ``cfn-lint`` and against the permissions the collectors need.

What no test here can do: schedule the Jobs on a real cluster, assume real roles, or
reach real S3 (README, "Running it at organisation scale", says so)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
TEMPLATES = ROOT / "deploy" / "aws"
# The oldest Kubernetes with every field the manifests use (backoffLimitPerIndex is beta
# from 1.29 and on by default), and the newest the package knows.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def _documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append(
                    (f"{path.name}: {document['kind']} {document['metadata']['name']}", document)
                )
    return found


DOCUMENTS = _documents()


def _containers(document: dict) -> list[dict]:
    spec = document.get("spec", {})
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec.get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _pod(document: dict) -> dict:
    spec = document["spec"]
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_manifests_follow_the_kubernetes_schemas(name, document, version):
    kubernetes_validate.validate(document, version, strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    present = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == present


def test_pods_are_restricted_and_run_the_image_as_its_user():
    workloads = [d for _, d in DOCUMENTS if d["kind"] in ("CronJob", "Deployment")]
    assert len(workloads) == 4
    for document in workloads:
        pod = _pod(document)
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in _containers(document):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert container["image"].startswith("registry.example.com/postureapp:")


def test_the_cluster_role_is_readmes():
    from postureapp.collectors.kubernetes.permissions import CLUSTER_ROLE_YAML

    shipped = next(d for _, d in DOCUMENTS if d["kind"] == "ClusterRole")
    assert shipped == yaml.safe_load(CLUSTER_ROLE_YAML)
    binding = next(d for _, d in DOCUMENTS if d["kind"] == "ClusterRoleBinding")
    account = next(d for _, d in DOCUMENTS if d["kind"] == "ServiceAccount")
    assert binding["roleRef"]["name"] == shipped["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "posture"}
    ]
    assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]


def _expand(value: str, env: dict[str, str]) -> str:
    """What kubelet does to ``$(VAR)`` in command and args."""
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def _parse(args: list[str]) -> click.Context:
    """Parse a command line with posture's CLI, options and their checks included,
    without running it."""
    from postureapp.cli import cli

    group = click.Context(cli, info_name="posture")
    command = cli.get_command(group, args[0])
    assert command is not None, args
    return command.make_context(args[0], list(args[1:]), parent=group)


def test_container_command_lines_are_real_posture_invocations(tmp_path):
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["posture"]' in dockerfile
    seen = {}
    for name, document in DOCUMENTS:
        for container in _containers(document):
            assert "command" not in container, f"{name}: the image's entrypoint runs posture"
            # As the Job controller sets it for pod 3 of the Indexed Job.
            env = {"JOB_COMPLETION_INDEX": "3"}
            args = [_expand(arg, env) for arg in container["args"]]
            assert not [a for a in args if "$(" in a], (name, args)
            context = _parse(args)
            seen[(document["metadata"]["name"], context.info_name)] = context.params
    assert seen[("posture-organization", "collect")]["shard"] == (3, 4)
    assert seen[("posture-organization", "collect")]["organization"] is True
    assert seen[("posture-cluster", "collect")]["contexts"] == ("prod-eu",)
    for key in (("posture-organization", "collect"), ("posture-cluster", "collect")):
        assert seen[key]["part"] == "s3://example-posture-parts/posture/parts"
    merge = seen[("posture-merge", "merge")]
    assert merge["sources"] == ("s3://example-posture-parts/posture/parts",)
    assert ("posture-dashboard", "serve") in seen


def test_what_the_pods_read_loads(tmp_path):
    """The ConfigMap's kubeconfig names the context the CronJob collects and reaches the
    API server with the pod's own token; its config.toml is valid posture config."""
    from kubernetes import config as kube_config

    from postureapp.config import load_config

    data = next(d for _, d in DOCUMENTS if d["kind"] == "ConfigMap")["data"]
    (tmp_path / "kubeconfig").write_text(data["kubeconfig"])
    contexts, current = kube_config.list_kube_config_contexts(str(tmp_path / "kubeconfig"))
    assert [c["name"] for c in contexts] == ["prod-eu"] == [current["name"]]
    user = yaml.safe_load(data["kubeconfig"])["users"][0]["user"]
    assert user == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    (tmp_path / "config.toml").write_text(data["config.toml"])
    config = load_config(tmp_path / "config.toml", environ={})
    assert config.get("fleet.aws_role_name") == "PostureAppReader"
    for _, document in DOCUMENTS:
        for container in _containers(document):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            if "POSTURE_CONFIG" in env:
                assert env["POSTURE_CONFIG"] == "/etc/posture/config.toml"
                assert mounts["/etc/posture"] == "config"
            assert mounts.get("/tmp") == "tmp"  # the read-only root's one writable place


def _template(name: str) -> dict:
    class Loader(yaml.SafeLoader):
        pass

    def tag(loader, _suffix, node):  # CloudFormation's short forms (!Ref, !Sub...)
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", tag)
    return yaml.load((TEMPLATES / name).read_text(), Loader=Loader)


def test_cloudformation_templates_pass_cfn_lint():
    from cfnlint.api import lint_all

    templates = sorted(TEMPLATES.glob("*.yaml"))
    assert [t.name for t in templates] == ["collector-role.yaml", "member-role.yaml"]
    for template in templates:
        # Errors and warnings, as the cfn-lint command reports by default.
        matches = [m for m in lint_all(template.read_text()) if m.rule.id[0] in "EW"]
        assert matches == [], (template.name, [str(m) for m in matches])


def test_the_member_role_grants_what_the_collector_reads():
    from postureapp.collectors.aws.organizations import ORGANIZATION_POLICY
    from postureapp.collectors.aws.permissions import IAM_POLICY_JSON, SECURITY_AUDIT_ARN

    member = _template("member-role.yaml")
    role = member["Resources"]["PostureAppReader"]["Properties"]
    assert role["ManagedPolicyArns"] == [SECURITY_AUDIT_ARN]
    assert role["Policies"][0]["PolicyDocument"] == json.loads(IAM_POLICY_JSON)
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRole"
    default_name = member["Parameters"]["RoleName"]["Default"]
    assume = ORGANIZATION_POLICY["Statement"][1]
    assert assume["Resource"].endswith(f":role/{default_name}")
    # No region or account is written into it: one template for every account (StackSet).
    text = (TEMPLATES / "member-role.yaml").read_text()
    assert not re.search(r"\b\d{12}\b", text.replace("111122223333", ""))

    collector = _template("collector-role.yaml")
    policy = collector["Resources"]["PostureCollector"]["Properties"]["Policies"][0]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    listed = statements["PostureListTheOrganization"]["Action"]
    assert listed == ORGANIZATION_POLICY["Statement"][0]["Action"]


def test_readme_carries_the_organization_policy_verbatim():
    from postureapp.collectors.aws.organizations import ORGANIZATION_POLICY_JSON

    assert ORGANIZATION_POLICY_JSON in (ROOT / "README.md").read_text()
