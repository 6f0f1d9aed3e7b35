"""Offline Kubernetes input: ``kubectl get ... -o json`` (or ``-o yaml``) dumps.

Accepted: a file or a directory of ``.json``/``.yaml``/``.yml`` files (searched
recursively, hidden entries skipped), each holding a ``List``, a typed list
(``PodList``...) or single objects (several YAML documents are fine). For example::

    kubectl get namespaces,serviceaccounts,pods,services,secrets,roles,clusterroles,\\
      rolebindings,clusterrolebindings,ingresses,networkpolicies,\\
      validatingwebhookconfigurations,mutatingwebhookconfigurations -A -o json > cluster.json

Objects are normalised by the same code as the live collector
(:mod:`postureapp.collectors.kubernetes.normalise`); there is no synthetic ``Cluster`` resource,
since a dump says nothing about the server. An object found twice (in two files of a
directory) is kept once, the later file winning. Secrets in such dumps do carry their data:
only metadata and ``type`` are handed to the normaliser, so no value reaches a
Resource. Kinds postureapp does not read are skipped; a file that is empty, malformed,
truncated, too large or too deeply nested (:mod:`postureapp.collectors.bounded`), not
Kubernetes output, or holds only unread kinds raises
:class:`~postureapp.errors.InputError` with one line naming the file.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postureapp.collectors import bounded
from postureapp.collectors.kubernetes._gc import gc_paused
from postureapp.collectors.kubernetes.kinds import ALL_KINDS, BY_GROUP_KIND, KindSpec
from postureapp.collectors.kubernetes.normalise import MalformedObject, normalise
from postureapp.errors import InputError
from postureapp.model import Resource

SUFFIXES = (".json", ".yaml", ".yml")
DEFAULT_SCOPE = "offline"
_EXPORT_HINT = "export it again with `kubectl get <kinds> -A -o json`"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class OfflineDump:
    """What a dump held: its resources, the kinds present, and the objects skipped
    because postureapp does not read their kind."""

    resources: list[Resource]
    kinds: set[str] = field(default_factory=set)
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def load_path(path: str | Path, scope: str = DEFAULT_SCOPE) -> list[Resource]:
    """Every resource in a dump file or directory. Raises InputError on a bad file."""
    return load_dump(path, scope).resources


def load_dump(path: str | Path, scope: str = DEFAULT_SCOPE) -> OfflineDump:
    """Like :func:`load_path`, also saying which kinds the dump covered: a kind absent
    from ``kinds`` was not exported, which is not the same as "there are none"."""
    with gc_paused():
        return _load_dump(Path(path), scope)


def _load_dump(root: Path, scope: str) -> OfflineDump:
    if not root.exists():
        raise InputError(f"{root}: no such file or directory")
    if root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix.lower() in SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not files:
            raise InputError(f"{root}: no .json or .yaml files in this directory; {_EXPORT_HINT}")
    else:
        files = [root]
    dump = OfflineDump(resources=[], files=files)
    by_uid: dict[str, Resource] = {}
    for file in files:
        for spec, api_version, obj in _objects(file, dump.skipped):
            try:
                resource = normalise(scope, spec.kind, _readable(spec, obj), api_version)
            except MalformedObject as exc:
                raise InputError(f"{file}: {exc}; {_EXPORT_HINT}") from None
            by_uid[resource.uid] = resource  # a later file wins, as a later poll would
            dump.kinds.add(spec.kind)
    dump.resources = list(by_uid.values())
    return dump


def _readable(spec: KindSpec, obj: dict[str, Any]) -> dict[str, Any]:
    """What the normaliser may see: for a Secret, metadata and type only — never data."""
    if spec.kind == "Secret":
        readable = {"metadata": obj.get("metadata")}
        if "type" in obj:
            readable["type"] = obj["type"]
        return readable
    return obj


def _documents(file: Path) -> list[Any]:
    bounded.check_size(file)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{file}: not a text file (compressed?); {_EXPORT_HINT}") from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise InputError(f"{file}: the file is empty; {_EXPORT_HINT}")
    if file.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        bounded.check_json_depth(text, file)
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{file}: malformed or truncated JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); {_EXPORT_HINT}"
            ) from None
    bounded.check_yaml(text, file, _Loader)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"{file}: malformed or truncated YAML{where}; {_EXPORT_HINT}") from None
    if not documents:
        raise InputError(f"{file}: the file holds no YAML document; {_EXPORT_HINT}")
    return documents


def _objects(file: Path, skipped: Counter[str]) -> list[tuple[KindSpec, str, dict[str, Any]]]:
    """(spec, apiVersion, object) for every object of a kind postureapp reads."""
    raw: list[tuple[str, str, dict[str, Any]]] = []
    for document in _documents(file):
        if not isinstance(document, dict) or not document.get("kind"):
            raise InputError(
                f"{file}: not Kubernetes output (no kind/apiVersion at the top); {_EXPORT_HINT}"
            )
        kind = str(document["kind"])
        api_version = str(document.get("apiVersion") or "")
        items = document.get("items")
        if kind == "List" or (kind.endswith("List") and "items" in document):
            if items is None:
                items = []
            if not isinstance(items, list):
                raise InputError(f"{file}: 'items' of the {kind} is not a list; {_EXPORT_HINT}")
            default_kind = None if kind == "List" else kind.removesuffix("List")
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    raise InputError(f"{file}: item {index} of the {kind} is not an object")
                item_kind = item.get("kind") or default_kind
                item_version = item.get("apiVersion") or api_version
                if not item_kind or not item_version:
                    raise InputError(
                        f"{file}: item {index} of the {kind} has no kind/apiVersion; {_EXPORT_HINT}"
                    )
                raw.append((str(item_version), str(item_kind), item))
        else:
            if not api_version:
                raise InputError(f"{file}: a {kind} without apiVersion; {_EXPORT_HINT}")
            raw.append((api_version, kind, document))
    found = []
    unread: Counter[str] = Counter()
    for api_version, kind, obj in raw:
        spec = BY_GROUP_KIND.get((api_version.rpartition("/")[0], kind))
        if spec is None:
            unread[kind] += 1
            continue
        found.append((spec, api_version, obj))
    skipped.update(unread)
    if raw and not found:
        kinds = ", ".join(sorted(unread))
        readable = ", ".join(sorted({spec.plural for spec in ALL_KINDS}))
        raise InputError(
            f"{file}: holds only kinds postureapp does not read ({kinds}); export some of: "
            f"{readable}"
        )
    return found
