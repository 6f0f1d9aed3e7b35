"""The Kubernetes regression bank: peer projects' test fixtures (copied under ``peers/``,
see ATTRIBUTION.md) and postureapp's own cases, each judged twice — live, served by the
project's Kubernetes API emulator and read by the real collector through the official
client, and offline, from the dump ``kubectl get <kind> -A -o json > <kind>.json 2>&1``
would write of the same cluster — and scored against the verdict each case expects.

A manifest becomes what the API server would hold: namespaced objects without a
namespace land in ``default``, legacy apiVersions are served as today's
(``batch/v1beta1`` CronJob as ``batch/v1``...), namespaces exist, and pods get what the
ServiceAccount admission plugin adds (``serviceAccountName: default``, the
``kube-api-access`` token volume unless automount is off). The emulator then adds uid,
resourceVersion and creationTimestamp, as the API server does.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.collectors.offline import OfflineCollector, offline_targets
from postureapp.engine import Engine, Judgement
from postureapp.model import Status, Target, k8s_uid
from tests.kube import KubeAPIServer
from tests.kube.dumps import kubectl_list, write_dump

HERE = Path(__file__).parent
PEERS = HERE / "peers"
CONTEXT = "regression"
MODES = ("live", "offline")
VERDICTS = ("fail", "pass")
# --plain-dump: offline dumps hold only the lists (no apis.json, no kubectl errors).
PLAIN_DUMP = False

# apiVersions a manifest may still use, as a current API server serves the kind.
_SERVED_AS = {
    ("batch/v1beta1", "CronJob"): "batch/v1",
    ("extensions/v1beta1", "Deployment"): "apps/v1",
    ("extensions/v1beta1", "DaemonSet"): "apps/v1",
    ("extensions/v1beta1", "ReplicaSet"): "apps/v1",
    ("apps/v1beta1", "Deployment"): "apps/v1",
    ("apps/v1beta2", "Deployment"): "apps/v1",
    ("extensions/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("extensions/v1beta1", "NetworkPolicy"): "networking.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "Role"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "rbac.authorization.k8s.io/v1",
}
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


@dataclass(frozen=True)
class Expectation:
    check: str
    ref: str  # Kind/namespace/name ("" namespace for cluster-scoped)
    verdict: str  # fail | pass

    def uid(self, scope: str) -> str:
        kind, namespace, name = self.ref.split("/", 2)
        return k8s_uid(scope, kind, name, namespace or None)


@dataclass
class Case:
    id: str
    category: str
    origin: str  # "peer" or "own"
    files: list[str] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)
    dump: dict[str, str] = field(default_factory=dict)
    note: str = ""


def load_cases() -> list[Case]:
    """Every case of ``cases_peers.yaml`` and ``cases_own.yaml``."""
    cases = []
    for name, origin in (("cases_peers.yaml", "peer"), ("cases_own.yaml", "own")):
        for raw in yaml.safe_load((HERE / name).read_text()):
            cases.append(
                Case(
                    id=raw["id"],
                    category=raw["category"],
                    origin=origin,
                    files=list(raw.get("files") or []),
                    objects=list(raw.get("objects") or []),
                    expect=[Expectation(*item) for item in raw["expect"]],
                    dump=dict(raw.get("dump") or {}),
                    note=str(raw.get("note") or ""),
                )
            )
    ids = Counter(case.id for case in cases)
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    return cases


def manifests(case: Case) -> list[dict[str, Any]]:
    found = []
    for file in case.files:
        found.extend(d for d in yaml.safe_load_all((PEERS / file).read_text()) if d)
    found.extend(copy.deepcopy(case.objects))
    return found


def served(case: Case) -> list[dict[str, Any]]:
    """The case's objects as the API server would hold them (see the module docstring)."""
    objects = []
    for manifest in manifests(case):
        obj = copy.deepcopy(manifest)
        key = (obj.get("apiVersion"), obj.get("kind"))
        obj["apiVersion"] = _SERVED_AS.get(key, obj["apiVersion"])
        meta = obj.setdefault("metadata", {})
        if obj["kind"] not in _CLUSTER_SCOPED:
            meta.setdefault("namespace", "default")
        objects.append(obj)
    namespaces = {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]}
    existing = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    for name in sorted((namespaces | {"default"}) - existing):
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    have = {
        (o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in objects
        if o["kind"] == "ServiceAccount"
    }
    for namespace in sorted(namespaces | {"default"}):  # the controller makes one each
        if (namespace, "default") not in have:
            meta = {"name": "default", "namespace": namespace}
            objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    accounts = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in objects
        if o["kind"] == "ServiceAccount"
    }
    for obj in objects:
        if obj["kind"] == "Pod":
            _admit(obj, accounts)
    return objects


def _admit(pod: dict[str, Any], accounts: dict[tuple[str, str], dict[str, Any]]) -> None:
    """What the ServiceAccount admission plugin does to a pod it lets in."""
    spec = pod.setdefault("spec", {})
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = name
    account = accounts.get((pod["metadata"]["namespace"], name), {})
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = account.get("automountServiceAccountToken")
    if automount is False:
        return
    spec.setdefault("volumes", []).append(
        {
            "name": "kube-api-access-rg7k2",
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt"}},
                ]
            },
        }
    )


# -- judging ---------------------------------------------------------------------------------


def _collector() -> KubernetesCollector:
    return KubernetesCollector(page_size=500, backoff=0.001, max_backoff=0.01, read_timeout=30)


def judge_live(case: Case, workdir: Path) -> Judgement:
    with KubeAPIServer(served(case), token="regression") as server:
        kubeconfig = server.write_kubeconfig(workdir / "kubeconfig", context=CONTEXT)
        target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
        return Engine({"kubernetes": _collector()}).run([target])


def judge_offline(case: Case, workdir: Path) -> Judgement:
    stored = list(KubeAPIServer(served(case), token=None).objects())  # uids, timestamps
    folder = write_dump(stored, workdir / "dump", encoding=case.dump.get("encoding", "utf-8"))
    if PLAIN_DUMP:
        # Only the lists: what a loader that knows no kubectl error and no discovery reads.
        for path in folder.iterdir():
            if (
                path.name == "apis.json"
                or path.read_bytes().lstrip(b"\xff\xfe\xef\xbb\xbf\x00")[:1] != b"{"
            ):
                path.unlink()
    if case.dump.get("extra") == "configmaps":
        config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
        (folder / "configmaps.json").write_text(json.dumps(kubectl_list([config])))
    return Engine({"offline": OfflineCollector()}).run(offline_targets([folder]))


@dataclass
class Outcome:
    case: Case
    mode: str
    expectation: Expectation
    got: str  # fail | pass | no-verdict
    detail: str

    @property
    def cell(self) -> str:
        """TP, FP, FN, TN or no-verdict."""
        if self.got not in VERDICTS:
            return "no-verdict"
        expected_fail = self.expectation.verdict == "fail"
        if self.got == "fail":
            return "TP" if expected_fail else "FP"
        return "FN" if expected_fail else "TN"


def outcomes(case: Case, mode: str, judgement: Judgement) -> list[Outcome]:
    scope = CONTEXT if mode == "live" else "offline"
    found = []
    for expectation in case.expect:
        uid = expectation.uid(scope)
        matching = [
            f
            for f in judgement.findings
            if f.check_id == expectation.check and f.resource_uid == uid
        ]
        statuses = {f.status for f in matching}
        if statuses == {Status.FAIL}:
            got = "fail"
        elif statuses == {Status.PASS}:
            got = "pass"
        else:
            got = "no-verdict"
        detail = "; ".join(f.detail for f in matching) or _why_none(judgement, expectation)
        found.append(Outcome(case, mode, expectation, got, detail))
    return found


def _why_none(judgement: Judgement, expectation: Expectation) -> str:
    unknown = [
        f.detail
        for f in judgement.findings
        if f.check_id == expectation.check and f.status is Status.UNKNOWN
    ]
    return "; ".join(unknown) or "no finding for this resource"


def orphans(judgement: Judgement) -> list[str]:
    """Findings whose resource the snapshot does not hold."""
    held = {r.uid for r in judgement.resources}
    return sorted({f.resource_uid for f in judgement.findings if f.resource_uid not in held})


def run(cases: Iterable[Case] | None = None) -> Iterator[tuple[Outcome, list[str]]]:
    """(outcome, orphan uids of its judgement) for every expectation, live and offline."""
    for case in cases if cases is not None else load_cases():
        for mode in MODES:
            with tempfile.TemporaryDirectory(prefix="posture-bank-") as workdir:
                judge = judge_live if mode == "live" else judge_offline
                try:
                    judgement = judge(case, Path(workdir))
                except Exception as error:  # a refused dump: no verdict at all
                    text = f"{type(error).__name__}: {error}"
                    for expectation in case.expect:
                        yield Outcome(case, mode, expectation, "no-verdict", text), []
                    continue
            lost = orphans(judgement)
            for outcome in outcomes(case, mode, judgement):
                yield outcome, lost


COLUMNS = ("TP", "FP", "FN", "TN", "no-verdict")


def table(results: list[Outcome], markdown: bool = False) -> str:
    """Per mode and category: cases, and TP/FP/FN/TN/no-verdict over expectations."""
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    cases: dict[tuple[str, str], set[str]] = defaultdict(set)
    for outcome in results:
        for category in (outcome.case.category, "all"):
            key = (outcome.mode, category)
            rows[key][outcome.cell] += 1
            cases[key].add(outcome.case.id)
    categories = [*sorted({o.case.category for o in results}), "all"]
    header = ["mode", "category", "cases", *COLUMNS]
    lines = []
    for mode in MODES:
        for category in categories:
            key = (mode, category)
            if key in rows:
                counts = rows[key]
                lines.append(
                    [mode, category, str(len(cases[key])), *(str(counts[c]) for c in COLUMNS)]
                )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [header, *lines])
