"""Offline input for ``posture collect --from PATH``: dumps instead of live APIs.

Accepted, as files or directories of them:

* ``kubectl get ... -o json`` (or YAML) output: a ``List``/``XxxList`` or one object;
* the JSON of ``aws iam get-account-authorization-details``;
* an IAM credential report CSV.

Files are loaded and validated when the targets are built — before the cache is
opened — so a malformed, truncated or wrong-kind file fails the command with exit 2
and writes nothing. A kind the dump does not contain is *unknown* in the run record
(a pod dump says nothing about RBAC), so checks needing it report unknown, not pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from postureapp.collectors import bounded
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.errors import InputError
from postureapp.model import Resource, Target

_AWS_JSON_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_KUBE_SUFFIXES = (".json", ".yaml", ".yml")


def _classify(file: Path) -> str:
    """'aws' or 'kubernetes', from the file's shape (its content, not only its name)."""
    if file.suffix.lower() == ".csv":
        return "aws"
    if file.suffix.lower() == ".json":
        try:
            with file.open("rb") as handle:
                head = handle.read(4096).decode("utf-8", errors="replace")
        except OSError as error:
            raise InputError(f"{file}: cannot read ({error.strerror})") from None
        if any(f'"{key}"' in head for key in _AWS_JSON_KEYS):
            return "aws"
        # Big dumps may put the keys further down; look at the whole top level.
        if '"kind"' not in head and '"apiVersion"' not in head:
            bounded.check_size(file)
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return "kubernetes"  # the kubernetes loader reports the read error
            bounded.check_json_depth(text, file)
            try:
                document = json.loads(text)
            except ValueError:
                return "kubernetes"  # the kubernetes loader reports the parse error
            if isinstance(document, dict) and any(key in document for key in _AWS_JSON_KEYS):
                return "aws"
    return "kubernetes"


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in (*_KUBE_SUFFIXES, ".csv")
        )
        if not files:
            raise InputError(f"{path}: no .json, .yaml or .csv file in it")
        return files
    raise InputError(f"{path}: no such file or directory")


def offline_targets(paths: list[Path], scope: str = "offline") -> list[Target]:
    """Load every dump now and return one target per provider found.

    Raises:
        InputError: a file is malformed, truncated, empty or of a kind we do not read.
    """
    kube_groups: list[list[Path]] = []
    aws_files: list[Path] = []
    for path in map(Path, paths):
        files = _files(path)
        kube = [file for file in files if _classify(file) == "kubernetes"]
        aws_files.extend(file for file in files if file not in kube)
        if kube:
            # A folder of kubectl dumps loads as one (duplicates across files merged);
            # a folder mixing AWS files is loaded file by file.
            kube_groups.append([path] if path.is_dir() and len(kube) == len(files) else kube)
    targets = []
    if kube_groups:
        from postureapp.collectors.kubernetes import offline as kube_offline
        from postureapp.collectors.kubernetes.kinds import ALL_KINDS

        by_uid: dict[str, Resource] = {}
        covered: set[str] = set()
        sources: list[Path] = []
        for group in kube_groups:
            for item in group:
                dump = kube_offline.load_dump(item, scope=scope)
                by_uid.update((resource.uid, resource) for resource in dump.resources)
                covered |= dump.kinds
                sources.append(item)
        expected = [spec.kind for spec in ALL_KINDS if spec.kind not in covered]
        targets.append(_target("kubernetes", sources, list(by_uid.values()), expected))
    if aws_files:
        from postureapp.collectors.aws import KINDS as AWS_KINDS
        from postureapp.collectors.aws import offline as aws_offline

        resources = _load_aws(aws_offline, aws_files)
        # An IAM dump says nothing of CloudTrail or security groups: every kind it does
        # not hold is unknown, so "no trail found" can never be read as a finding.
        targets.append(_target("aws", aws_files, resources, list(AWS_KINDS)))
    return targets


def _load_aws(aws_offline, files: list[Path]) -> list[Resource]:
    folders = {file.parent for file in files}
    if len(folders) == 1:
        folder = folders.pop()
        everything = [
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".csv")
        ]
        if sorted(everything) == sorted(files):
            return aws_offline.load_path(folder)  # pages saved one per file are merged
    resources: list[Resource] = []
    for file in files:
        resources.extend(aws_offline.load_path(file))
    return resources


def _target(provider: str, files: list[Path], resources: list[Resource], expected: list[str]):
    names = ", ".join(str(file) for file in files[:3]) + (" ..." if len(files) > 3 else "")
    seen = {resource.kind for resource in resources}
    scope = next((resource.scope for resource in resources), "offline")
    if provider == "aws":
        scope = scope.split("/")[0]  # the account: unknowns apply to all its scopes
    return Target(
        provider="offline",
        name=f"{provider}:{names}",
        options={
            "provider": provider,
            "resources": resources,
            "scope": scope,
            "missing": [kind for kind in expected if kind not in seen],
            "source": names,
        },
    )


class OfflineCollector:
    """Hands the engine what :func:`offline_targets` already loaded."""

    name = "offline"
    provider = "offline"

    def collect(self, target: Target) -> CollectResult:
        options = target.options
        recorder = RunRecorder(
            self.name, target.name, scope=options["scope"], provider=options["provider"]
        )
        for kind in options["missing"]:
            recorder.mark_unknown(kind, "not in the offline dump")
        resources = list(options["resources"])
        return CollectResult(resources, recorder.finish(len(resources)))
