"""Offline dumps as users make them: what ``kubectl get <kind> -A -o json > <kind>.json
2>&1`` writes for each kind the collector reads, from a live estate's objects.

kubectl prints a kind-less ``List`` (items keep their apiVersion and kind), and for a
kind the cluster does not serve it prints its error instead, which ``2>&1`` saves in
the file. ``kubectl get --raw /apis`` gives the APIGroupList.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from postureapp.collectors.kubernetes.kinds import ALL_KINDS, BY_GROUP_KIND, KindSpec

NOT_SERVED = 'error: the server doesn\'t have a resource type "{plural}"\n'


def kubectl_list(objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What ``kubectl get <kinds> -A -o json`` prints."""
    return {
        "apiVersion": "v1",
        "items": [dict(obj) for obj in objects],
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def spec_of(obj: Mapping[str, Any]) -> KindSpec | None:
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return BY_GROUP_KIND.get((group, str(obj.get("kind"))))


def served_groups(objects: Iterable[Mapping[str, Any]], crds: Iterable[str] = ()) -> set[str]:
    """The API groups a cluster holding these objects serves: the built-ins, and the
    add-on groups of the objects (or named in ``crds``, as ``plural.group``)."""
    groups = {spec.group for spec in ALL_KINDS if spec.builtin and spec.group}
    groups.update(spec.group for obj in objects if (spec := spec_of(obj)) is not None)
    groups.update(crd.split(".", 1)[1] for crd in crds)
    return groups


def write_dump(
    objects: Iterable[Mapping[str, Any]],
    folder: Path,
    *,
    groups: set[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    """One ``<plural>.json`` per kind the collector reads, as kubectl writes it: the
    objects of that kind (an empty List when none), or kubectl's error for a kind whose
    group ``groups`` (default: inferred from the objects) does not hold; plus
    ``apis.json``, the APIGroupList."""
    objects = list(objects)
    served = served_groups(objects) if groups is None else groups
    folder.mkdir(parents=True, exist_ok=True)
    for spec in ALL_KINDS:
        path = folder / f"{spec.plural}.json"
        if spec.group and spec.group not in served:
            path.write_text(NOT_SERVED.format(plural=spec.plural), encoding=encoding)
            continue
        mine = [obj for obj in objects if spec_of(obj) is spec]
        path.write_text(json.dumps(kubectl_list(mine), indent=4) + "\n", encoding=encoding)
    apis = {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}]}
            for group in sorted(served)
        ],
    }
    (folder / "apis.json").write_text(json.dumps(apis, indent=4) + "\n", encoding=encoding)
    return folder
