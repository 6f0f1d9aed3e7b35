"""Offline input for ``posture collect --from PATH``: dumps instead of live APIs.

Accepted, as files or directories of them:

* ``kubectl get ... -o json`` (or YAML) output: a ``List``/``XxxList`` or one object;
* the JSON of ``aws iam get-account-authorization-details``;
* an IAM credential report CSV.

Files are loaded and validated when the targets are built — before the cache is
opened — so a malformed, truncated or wrong-kind file fails the command with exit 2
and writes nothing. A kind the dump does not contain is *unknown* in the run record
(a pod dump says nothing about RBAC), so checks needing it report unknown, not pass;
a kind it holds, even as an empty list, is *read*, and one whose API the dump shows
is not served is *not served* (see :mod:`postureapp.collectors.kubernetes.offline`).

Text is read as the tools write it on every platform: UTF-8 with or without a
byte-order mark, and UTF-16 (what Windows PowerShell's ``>`` writes), with or without
one (:func:`postureapp.collectors.bounded.decode`).
"""

from __future__ import annotations

import json
from pathlib import Path

from postureapp.collectors import bounded
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.collectors.bounded import decode, encoding_of
from postureapp.errors import InputError
from postureapp.model import KindRead, Resource, Target

_AWS_JSON_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_KUBE_SUFFIXES = (".json", ".yaml", ".yml")


def _classify(file: Path) -> str:
    """'aws' or 'kubernetes', from the file's shape (its content, not only its name)."""
    if file.suffix.lower() == ".csv":
        return "aws"
    if file.suffix.lower() == ".json":
        try:
            with file.open("rb") as handle:
                raw = handle.read(8192)
        except OSError as error:
            raise InputError(f"{file}: cannot read ({error.strerror})") from None
        encoding = encoding_of(raw)
        head = raw.decode(encoding.removesuffix("-sig"), errors="replace").lstrip("\ufeff")
        if any(f'"{key}"' in head for key in _AWS_JSON_KEYS):
            return "aws"
        # Big dumps may put the keys further down; look at the whole top level.
        if '"kind"' not in head and '"apiVersion"' not in head:
            bounded.check_size(file)
            try:
                text = decode(file.read_bytes())
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
    kube_parts: list[tuple[Path, list[Path] | None]] = []
    aws_files: list[Path] = []
    for path in map(Path, paths):
        files = _files(path)
        kube = [file for file in files if _classify(file) == "kubernetes"]
        aws_files.extend(file for file in files if file not in kube)
        if kube:
            # A folder loads as one dump (duplicates across files merged, a file of
            # kinds postureapp does not read skipped), whatever else it holds.
            kube_parts.append((path, _visible(path, kube) if path.is_dir() else None))
    targets = []
    if kube_parts:
        targets.append(_kube_target(kube_parts, scope))
    if aws_files:
        from postureapp.collectors.aws import KINDS as AWS_KINDS
        from postureapp.collectors.aws import offline as aws_offline

        dump = _load_aws(aws_offline, aws_files)
        # An IAM dump says nothing of CloudTrail or security groups: every kind it does
        # not hold is unknown, so "no trail found" can never be read as a finding; a
        # list it holds empty (no users in an SSO-only account) is read.
        missing = [k for k in AWS_KINDS if k not in dump.read and k not in dump.unknown]
        target = _target("aws", aws_files, dump.resources, missing)
        target.options["kinds"] = dict.fromkeys(sorted(dump.read), str(KindRead.READ))
        target.options["unknown"] = dict(dump.unknown)
        targets.append(target)
    return targets


def _visible(folder: Path, files: list[Path]) -> list[Path]:
    return [f for f in files if not any(p.startswith(".") for p in f.relative_to(folder).parts)]


def _kube_target(parts: list[tuple[Path, list[Path] | None]], scope: str) -> Target:
    """One target for every kubectl dump given: their objects merged (a later file
    wins), with what they tell of each kind, and the dump's ``Cluster`` resource."""
    from postureapp.collectors.kubernetes import offline as kube_offline
    from postureapp.collectors.kubernetes.kinds import ALL_KINDS

    dumps = [kube_offline.load_dump(path, scope=scope, files=files) for path, files in parts]
    dump = kube_offline.merge(dumps)
    resources = [*dump.resources, kube_offline.cluster(dump, scope)]
    missing = [
        spec.kind
        for spec in ALL_KINDS
        if spec.kind not in dump.kinds and spec.kind not in dump.unknown
    ]
    target = _target("kubernetes", [path for path, _ in parts], resources, missing)
    target.options["kinds"] = {kind: str(state) for kind, state in dump.kinds.items()}
    target.options["unknown"] = dict(dump.unknown)
    target.options["scope"] = scope
    return target


def _load_aws(aws_offline, files: list[Path]):
    """The AWS files as one :class:`~postureapp.collectors.aws.offline.AwsDump`."""
    folders = {file.parent for file in files}
    if len(folders) == 1:
        folder = folders.pop()
        everything = [
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".csv")
        ]
        if sorted(everything) == sorted(files):
            return aws_offline.load_dump(folder)  # pages saved one per file are merged
    dump = aws_offline.AwsDump()
    for file in files:
        part = aws_offline.load_dump(file)
        dump.resources.extend(part.resources)
        dump.read |= part.read
        dump.unknown.update(part.unknown)
    return dump


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
        for kind, state in options.get("kinds", {}).items():
            if state == KindRead.NOT_SERVED:
                recorder.mark_not_served(kind)
            else:
                recorder.mark_read(kind)
        for kind, reason in options.get("unknown", {}).items():
            recorder.mark_unknown(kind, reason)
        for kind in options["missing"]:
            recorder.mark_unknown(kind, "not in the offline dump")
        resources = list(options["resources"])
        return CollectResult(resources, recorder.finish(len(resources)))
