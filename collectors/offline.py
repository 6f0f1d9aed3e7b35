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

from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.errors import InputError
from postureapp.model import Resource, Target

_AWS_JSON_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_KUBE_SUFFIXES = (".json", ".yaml", ".yml")


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(raw: bytes, file: Path | str) -> str:
    """A dump's text, whatever wrote it: UTF-8 with or without a byte-order mark, or
    UTF-16/32 (Windows PowerShell's ``>`` writes UTF-16 LE with a BOM; some tools omit
    the BOM, which the NUL bytes give away).

    Raises:
        InputError: the bytes are none of these encodings (one line naming the file).
    """
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], name
            break
    else:
        head = raw[:64]
        if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0] != 0:
            encoding = "utf-16-le"
        elif len(head) >= 4 and head[0::2].count(0) > len(head) // 4:
            encoding = "utf-16-be"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(
            f"{file}: not UTF-8 or UTF-16 text (save it as UTF-8 and try again)"
        ) from None


def _classify(file: Path) -> str:
    """'aws' or 'kubernetes', from the file's shape (its content, not only its name)."""
    if file.suffix.lower() == ".csv":
        return "aws"
    if file.suffix.lower() == ".json":
        try:
            with file.open("rb") as handle:
                raw = handle.read(4096)
        except OSError as error:
            raise InputError(f"{file}: cannot read ({error.strerror})") from None
        try:
            head = decode_text(raw[: len(raw) - len(raw) % 4], file)
        except InputError:
            head = raw.decode("utf-8", errors="replace")
        if any(f'"{key}"' in head for key in _AWS_JSON_KEYS):
            return "aws"
        # Big dumps may put the keys further down; look at the whole top level.
        if '"kind"' not in head and '"apiVersion"' not in head:
            try:
                document = json.loads(decode_text(file.read_bytes(), file))
            except (ValueError, InputError, OSError):
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

        dump = _load_aws(aws_offline, aws_files)
        # An IAM dump says nothing of CloudTrail or security groups: every kind it does
        # not hold is unknown, so "no trail found" can never be read as a finding; a
        # list it holds empty (no users in an SSO-only account) is read.
        expected = [kind for kind in AWS_KINDS if kind not in dump.read]
        target = _target("aws", aws_files, dump.resources, expected, read=dump.read)
        target.options["unknown"] = dict(dump.unknown)
        targets.append(target)
    return targets


def _load_aws(aws_offline, files: list[Path]):
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


def _target(
    provider: str,
    files: list[Path],
    resources: list[Resource],
    expected: list[str],
    read: set[str] | None = None,
):
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
            # Kinds the loader says it read count even with no item; otherwise (the
            # Kubernetes loader tells this itself) a kind with no item is missing.
            "missing": [kind for kind in expected if kind not in seen or read is not None],
            "read": sorted(read if read is not None else seen),
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
        for kind in options.get("read", ()):
            recorder.mark_read(kind)
        for kind in options["missing"]:
            recorder.mark_unknown(kind, "not in the offline dump")
        for kind, reason in options.get("unknown", {}).items():
            recorder.mark_unknown(kind, reason)
        resources = list(options["resources"])
        return CollectResult(resources, recorder.finish(len(resources)))
