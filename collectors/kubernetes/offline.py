"""Offline Kubernetes input: ``kubectl get ... -o json`` (or ``-o yaml``) dumps.

Accepted: a file or a directory of ``.json``/``.yaml``/``.yml`` files (searched
recursively, hidden entries skipped), each holding a ``List``, a typed list
(``PodList``...) or single objects (several YAML documents are fine), in UTF-8 (with or
without a byte-order mark) or UTF-16. The README's recipe writes one file per kind::

    for kind in namespaces pods deployments networkpolicies httproutes ...; do
      kubectl get "$kind" -A -o json > "$kind.json" 2>&1
    done
    kubectl get --raw /apis > apis.json

What each kind is, in the run record (``CollectorRun.kinds``/``unknown``):

* **read** — its objects are in the dump, or its list is, even empty. ``kubectl get
  <kind> -o json`` prints a kind-less ``List`` whatever it lists, so an empty one is
  told by its file name: the stem (``networkpolicies.json``) names a kind the way
  ``kubectl get`` does (plural, singular, short name, ``plural.group``), or several
  joined by commas (``pods,services.json``). A typed list (``PodList``) names its own.
* **not served** — the dump shows the cluster has no such API: kubectl's own error
  saved in the file (``error: the server doesn't have a resource type "httproutes"``,
  ``Error from server (NotFound)``), an APIGroupList (``kubectl get --raw /apis``)
  without the kind's group, or a list of CustomResourceDefinitions without its CRD.
* **unreadable** (unknown, with the reason) — not in the dump; kubectl's error
  ``Error from server (Forbidden)`` saved instead of the list; an empty file named for
  the kind (kubectl failed and wrote nothing); or a malformed object of that kind,
  which is dropped (:class:`~postureapp.collectors.kubernetes.normalise.MalformedObject`).

Objects are normalised by the same code as the live collector; an object found twice
is kept once, the later file winning. Secrets in such dumps do carry their data: only
metadata and ``type`` reach the normaliser, so no value reaches a Resource. Kinds
postureapp does not read are skipped, and so is a file of a directory that holds only
such kinds (a ConfigMap dump beside the others). A file that is empty, malformed,
truncated, too large or too deeply nested (:mod:`postureapp.collectors.bounded`), not
Kubernetes output, or a single file holding only unread kinds, raises
:class:`~postureapp.errors.InputError` with one line naming the file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postureapp.collectors import bounded
from postureapp.collectors.bounded import decode
from postureapp.collectors.kubernetes._gc import gc_paused
from postureapp.collectors.kubernetes._shape import describe
from postureapp.collectors.kubernetes.kinds import (
    ALL_KINDS,
    BY_GROUP_KIND,
    OPTIONAL_KINDS,
    PRODUCTS,
    KindSpec,
    named,
)
from postureapp.collectors.kubernetes.normalise import (
    MalformedObject,
    cluster_resource,
    malformed_reason,
    normalise,
)
from postureapp.errors import InputError
from postureapp.model import KindRead, Resource

SUFFIXES = (".json", ".yaml", ".yml")
DEFAULT_SCOPE = "offline"
_EXPORT_HINT = "export it again with `kubectl get <kinds> -A -o json`"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# kubectl's errors, as `2>&1` saves them in place of the list.
_KUBECTL = r"^(?:\S*kubectl(?:\.exe)? : )?"  # PowerShell prefixes the command's name
_NO_TYPE = re.compile(_KUBECTL + 'error: the server doesn\'t have a resource type "([^"]+)"')
_SERVER_ERROR = re.compile(_KUBECTL + r"Error from server \((\w+)\): (.*)")
_FORBIDDEN_RESOURCE = re.compile(r'cannot list resource "([^"]+)" in API group "([^"]*)"')
# PowerShell wraps a native command's stderr in lines like these.
_POWERSHELL_NOISE = re.compile(r"^\s*(?:\+ |At line:|CategoryInfo|FullyQualifiedErrorId)")


@dataclass
class OfflineDump:
    """What a dump held: its resources, what it says of each kind, and what was skipped."""

    resources: list[Resource]
    kinds: dict[str, KindRead] = field(default_factory=dict)  # read or not served
    unknown: dict[str, str] = field(default_factory=dict)  # unreadable kind -> why
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # objects of unread kinds
    skipped_files: list[Path] = field(default_factory=list)  # files of unread kinds only
    groups: set[str] | None = None  # API groups served, from an APIGroupList
    crds: set[str] | None = None  # CRDs installed (plural.group), from a CRD list

    def read(self, kind: str) -> None:
        self.kinds[kind] = KindRead.READ  # an answer beats a "not served" seen elsewhere

    def not_served(self, kind: str) -> None:
        self.kinds.setdefault(kind, KindRead.NOT_SERVED)

    def unreadable(self, kind: str, reason: str) -> None:
        self.unknown.setdefault(kind, reason)


def load_path(path: str | Path, scope: str = DEFAULT_SCOPE) -> list[Resource]:
    """Every resource in a dump file or directory. Raises InputError on a bad file."""
    return load_dump(path, scope).resources


def load_dump(
    path: str | Path, scope: str = DEFAULT_SCOPE, files: list[Path] | None = None
) -> OfflineDump:
    """Like :func:`load_path`, also saying what the dump told of each kind: a kind in
    neither ``kinds`` nor ``unknown`` was not exported, which is not "there are none".
    ``files``: the files of the directory ``path`` to read (the dispatcher's choice)."""
    with gc_paused():
        return _load_dump(Path(path), scope, files)


def merge(dumps: list[OfflineDump]) -> OfflineDump:
    """Several dumps as one: objects by uid (the later wins), a kind read anywhere is
    read, unknown anywhere (a malformed object) is unknown."""
    merged = OfflineDump(resources=[])
    by_uid: dict[str, Resource] = {}
    for dump in dumps:
        by_uid.update((resource.uid, resource) for resource in dump.resources)
        for kind, state in dump.kinds.items():
            if state is KindRead.READ:
                merged.read(kind)
            else:
                merged.not_served(kind)
        for kind, reason in dump.unknown.items():
            merged.unreadable(kind, reason)
        merged.files.extend(dump.files)
        merged.skipped.update(dump.skipped)
        merged.skipped_files.extend(dump.skipped_files)
        for name in ("groups", "crds"):
            mine, theirs = getattr(merged, name), getattr(dump, name)
            if theirs is not None:
                setattr(merged, name, (mine or set()) | theirs)
    merged.resources = list(by_uid.values())
    return merged


def _load_dump(root: Path, scope: str, chosen: list[Path] | None) -> OfflineDump:
    if not root.exists():
        raise InputError(f"{root}: no such file or directory")
    if chosen is not None:
        files = sorted(chosen)
    elif root.is_dir():
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
    malformed: dict[str, list[str]] = {}
    for file in files:
        objects = _File(file, dump, in_directory=root.is_dir()).objects()
        for spec, api_version, obj in objects:
            try:
                resource = normalise(scope, spec.kind, _readable(spec, obj), api_version)
            except MalformedObject as exc:
                malformed.setdefault(spec.kind, []).append(f"{file}: {exc}")
                continue
            by_uid[resource.uid] = resource  # a later file wins, as a later poll would
            dump.read(spec.kind)
    for kind, messages in malformed.items():
        dump.unknown[kind] = malformed_reason(messages)
    _discovery(dump)
    dump.resources = list(by_uid.values())
    return dump


def _discovery(dump: OfflineDump) -> None:
    """Kinds an APIGroupList or a CRD list in the dump shows are not served."""
    for spec in ALL_KINDS:
        if spec.kind in dump.kinds or spec.kind in dump.unknown:
            continue
        no_group = dump.groups is not None and spec.group and spec.group not in dump.groups
        no_crd = dump.crds is not None and spec.product and spec.qualified not in dump.crds
        if no_group or no_crd:
            dump.not_served(spec.kind)


def cluster(dump: OfflineDump, scope: str) -> Resource:
    """The dump's ``Cluster`` resource: cluster-wide findings hang on it, and it says
    which add-ons the dump shows installed (True), absent (False) or cannot tell."""
    installed: dict[str, bool | None] = {}
    for product in PRODUCTS:
        specs = [spec for spec in OPTIONAL_KINDS if spec.product == product]
        states = [dump.kinds.get(spec.kind) for spec in specs]
        if KindRead.READ in states:
            installed[product] = True
        elif all(state is KindRead.NOT_SERVED for state in states):
            installed[product] = False
        else:
            installed[product] = None
    return cluster_resource(
        scope,
        {
            "source": "offline",
            "context": scope,
            "server": None,
            "in_cluster": False,
            "version": None,
            "api_groups": None if dump.groups is None else sorted(dump.groups),
            "installed": installed,
            "crds": {
                spec.kind: spec.api_version()
                for spec in OPTIONAL_KINDS
                if dump.kinds.get(spec.kind) is KindRead.READ
            },
        },
    )


def _readable(spec: KindSpec, obj: dict[str, Any]) -> dict[str, Any]:
    """What the normaliser may see: for a Secret, metadata and type only — never data."""
    if spec.kind == "Secret":
        readable = {"metadata": obj.get("metadata")}
        if "type" in obj:
            readable["type"] = obj["type"]
        return readable
    return obj


def kinds_named(file: Path) -> list[KindSpec]:
    """The kinds a file's name says it lists (``networkpolicies.json``,
    ``pods,services.yaml``), or [] when any part names no kind."""
    parts = file.stem.split(",")
    found = [named(part) for part in parts]
    return [spec for spec in found if spec is not None] if all(found) else []


_Object = tuple[KindSpec, str, dict[str, Any]]


class _File:
    """One file of the dump: its documents, what they say of each kind, its objects."""

    def __init__(self, file: Path, dump: OfflineDump, in_directory: bool) -> None:
        self.file = file
        self.dump = dump
        self.in_directory = in_directory
        self.named = kinds_named(file)
        self.unread: Counter[str] = Counter()  # items of kinds postureapp does not read

    def objects(self) -> list[_Object]:
        text = self._text()
        if text is None:
            return []
        raw: list[tuple[str, str, dict[str, Any]]] = []
        for document in self._documents(text):
            raw.extend(self._items(document))
        found: list[_Object] = []
        for api_version, kind, obj in raw:
            spec = BY_GROUP_KIND.get((api_version.rpartition("/")[0], kind))
            if spec is None:
                self.unread[kind] += 1
                continue
            found.append((spec, api_version, obj))
        self.dump.skipped.update(self.unread)
        if self.unread and not found:
            kinds = ", ".join(sorted(self.unread))
            if self.in_directory:
                self.dump.skipped_files.append(self.file)
                return []
            readable = ", ".join(sorted({spec.plural for spec in ALL_KINDS}))
            raise InputError(
                f"{self.file}: holds only kinds postureapp does not read ({kinds}); export "
                f"some of: {readable}"
            )
        return found

    # -- reading -----------------------------------------------------------------------

    def _fail(self, what: str) -> InputError:
        return InputError(f"{self.file}: {what}; {_EXPORT_HINT}")

    def _text(self) -> str | None:
        """The file's text without kubectl's error lines (each recorded), or None when
        nothing else is left."""
        bounded.check_size(self.file)
        try:
            text = decode(self.file.read_bytes())
        except UnicodeDecodeError:
            raise InputError(
                f"{self.file}: not a text file (compressed?); {_EXPORT_HINT}"
            ) from None
        except OSError as exc:
            raise InputError(f"{self.file}: cannot read it ({exc.strerror or exc})") from None
        if not text.strip():
            if self.named:
                for spec in self.named:
                    self.dump.unreadable(
                        spec.kind,
                        f"{self.file} is empty: kubectl wrote no list (denied, not served or "
                        "unreachable; save its error with 2>&1 to tell)",
                    )
                return None
            raise self._fail("the file is empty")
        if "error: " not in text and "Error from server" not in text:
            return text  # the common case: no line to look at
        lines = text.splitlines()
        errors = {index for index, line in enumerate(lines) if self._kubectl_error(line)}
        if not errors:
            return text
        rest = "\n".join(
            line
            for index, line in enumerate(lines)
            if index not in errors and not _POWERSHELL_NOISE.match(line)
        )
        return rest if rest.strip() else None

    def _kubectl_error(self, line: str) -> bool:
        """Record what one of kubectl's error lines says; False when it is not one."""
        if match := _NO_TYPE.match(line):
            spec = named(match.group(1))
            if spec is not None:
                self.dump.not_served(spec.kind)
            return True
        match = _SERVER_ERROR.match(line)
        if match is None:
            return False
        reason, message = match.groups()
        specs = self.named
        if resource := _FORBIDDEN_RESOURCE.search(message):
            plural, group = resource.groups()
            spec = named(f"{plural}.{group}" if group else plural)
            specs = [spec] if spec else specs
        if not specs:
            raise self._fail(f"kubectl's error for an unknown kind: {line.strip()[:200]}")
        for spec in specs:
            if reason == "NotFound" and "could not find the requested resource" in message:
                self.dump.not_served(spec.kind)
            else:
                self.dump.unreadable(spec.kind, f"{self.file}: kubectl: {line.strip()[:300]}")
        return True

    def _documents(self, text: str) -> list[Any]:
        if self.file.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
            bounded.check_json_depth(text, self.file)
            try:
                return [json.loads(text)]
            except json.JSONDecodeError as exc:
                raise self._fail(
                    f"malformed or truncated JSON (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg})"
                ) from None
        bounded.check_yaml(text, self.file, _Loader)
        try:
            documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise self._fail(f"malformed or truncated YAML{where}") from None
        if not documents:
            raise self._fail("the file holds no YAML document")
        return documents

    def _items(self, document: Any) -> list[tuple[str, str, dict[str, Any]]]:
        """(apiVersion, kind, object) of every object in one document; discovery
        documents and empty lists record what they say instead."""
        if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
            raise self._fail("not Kubernetes output (no kind/apiVersion at the top)")
        kind = document["kind"]
        api_version = str(document.get("apiVersion") or "")
        if kind == "APIGroupList":
            self._group_list(document)
            return []
        if kind == "APIResourceList":
            return []  # one group's resources: says nothing of the others
        items = document.get("items")
        if kind == "List" or (kind.endswith("List") and "items" in document):
            if items is None:
                items = []
            if not isinstance(items, list):
                raise self._fail(f"'items' of the {kind} is not a list")
            item_kind = None if kind == "List" else kind.removesuffix("List")
            self._listed(item_kind, api_version, items)
            found = []
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    self._not_an_object(kind, item_kind, index, item)
                    continue
                this_kind = item.get("kind") or item_kind
                this_version = item.get("apiVersion") or api_version
                if not isinstance(this_kind, str) or not isinstance(this_version, str):
                    raise self._fail(f"item {index} of the {kind} has no kind/apiVersion")
                found.append((this_version, this_kind, item))
            return self._crds(found, whole=True)
        if not api_version:
            raise self._fail(f"a {kind} without apiVersion")
        return self._crds([(api_version, kind, document)], whole=False)

    def _not_an_object(self, kind: str, item_kind: str | None, index: int, item: Any) -> None:
        """A list item that is not an object: dropped, and its kind (the typed list's, or
        the one the file is named for) is unknown; without a kind the list is broken."""
        what = f"item {index} of the {kind} is {describe(item)}, expected an object"
        if item_kind is None and len(self.named) == 1:
            item_kind = self.named[0].kind
        if item_kind is None:
            raise self._fail(what)
        spec = next((s for s in ALL_KINDS if s.kind == item_kind), None)
        if spec is None:
            self.unread[item_kind] += 1
        else:
            self.dump.unreadable(spec.kind, f"{self.file}: {what}; it was dropped, not judged")

    def _listed(self, item_kind: str | None, api_version: str, items: list[Any]) -> None:
        """A list was printed: the kinds it was asked for are read, empty or not."""
        if item_kind is not None:
            spec = BY_GROUP_KIND.get((api_version.rpartition("/")[0], item_kind))
            if spec is not None:
                self.dump.read(spec.kind)
            elif item_kind == "CustomResourceDefinition":
                self.dump.crds = self.dump.crds or set()
            return
        for spec in self.named:
            self.dump.read(spec.kind)
        if not items and self.file.stem.lower() in ("crds", "crd", "customresourcedefinitions"):
            self.dump.crds = self.dump.crds or set()

    def _crds(
        self, found: list[tuple[str, str, dict[str, Any]]], whole: bool
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """CustomResourceDefinitions in a list are the cluster's CRDs (``kubectl get
        crds`` lists them all); one on its own says nothing of the others."""
        kept = []
        for api_version, kind, obj in found:
            if kind != "CustomResourceDefinition":
                kept.append((api_version, kind, obj))
                continue
            spec = obj.get("spec")
            names = spec.get("names") if isinstance(spec, dict) else None
            if whole and isinstance(names, dict) and isinstance(spec, dict):
                crds = self.dump.crds if self.dump.crds is not None else set()
                crds.add(f"{names.get('plural')}.{spec.get('group')}")
                self.dump.crds = crds
        return kept

    def _group_list(self, document: dict[str, Any]) -> None:
        groups = document.get("groups")
        if not isinstance(groups, list):
            raise self._fail("the APIGroupList has no 'groups' list")
        served = self.dump.groups if self.dump.groups is not None else set()
        served.update(
            str(group["name"]) for group in groups if isinstance(group, dict) and group.get("name")
        )
        self.dump.groups = served
