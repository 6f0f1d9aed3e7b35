"""Fleet view benchmark: the ``:fleet`` matrix (targets x views and targets x controls)
of a 50,000-resource / 100,000-finding snapshot spread over 100 clusters and 20 AWS
accounts of 2 regions each (140 scopes, 120 targets), every tenth target failed.

Run: ``python -m tests.benchmarks.bench_fleet_view`` (one run, JSON on stdout).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import postureapp.checks  # noqa: F401  (registers the shipped catalog)
from postureapp.checks.registry import REGISTRY
from postureapp.model import CollectorRun, RunStatus, SnapshotStatus, k8s_uid
from postureapp.store import Store
from postureapp.store.fleet import fleet
from tests.benchmarks.estate import generate_findings, generate_resources

RESOURCES = 50_000
CLUSTERS = 100
ACCOUNTS = 20
REGIONS = ("eu-west-1", "us-east-1")


def spread(resources):
    """The same estate, each resource moved to one of the fleet's scopes."""
    moved = []
    for index, resource in enumerate(resources):
        if resource.provider == "kubernetes":
            cluster = f"cluster-{index % CLUSTERS:03d}"
            uid = k8s_uid(cluster, resource.kind, resource.name, resource.namespace or None)
            moved.append(replace(resource, uid=uid, scope=cluster))
        else:
            account = str(100000000000 + index % ACCOUNTS)
            region = REGIONS[index // ACCOUNTS % 2]
            uid = f"arn:aws:iam::{account}:{resource.kind.lower()}/{resource.name}"
            moved.append(replace(resource, uid=uid, scope=f"{account}/{region}"))
    return moved


def runs() -> list[CollectorRun]:
    result = []
    for index in range(CLUSTERS):
        name = f"cluster-{index:03d}"
        failed = index % 10 == 0
        result.append(
            CollectorRun(
                collector="kubernetes",
                target=name,
                scope=name,
                provider="kubernetes",
                status=RunStatus.FAILED if failed else RunStatus.OK,
                error="i/o timeout" if failed else "",
            )
        )
    for index in range(ACCOUNTS):
        account = str(100000000000 + index)
        result.append(
            CollectorRun(
                collector="aws",
                target=account,
                scope=account,
                provider="aws",
                status=RunStatus.PARTIAL if index % 10 == 0 else RunStatus.OK,
            )
        )
    return result


def main() -> None:
    resources = spread(generate_resources(RESOURCES))
    findings = generate_findings(resources)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        store.write_snapshot(
            started_at="2026-11-22T00:00:00Z",
            finished_at="2026-11-22T00:00:01Z",
            status=SnapshotStatus.PARTIAL,
            runs=runs(),
            resources=resources,
            findings=findings,
        )
        snapshot = store.latest()
        metas = list(REGISTRY.controls.values())
        samples = []
        for _ in range(5):
            began = time.perf_counter()
            result = fleet(store, snapshot, metas)
            samples.append(time.perf_counter() - began)
    print(
        json.dumps(
            {
                "fleet_matrix_100k_findings_120_targets_s": round(statistics.median(samples), 3),
                "fleet_targets": len(result.rows),
                "fleet_controls": len(result.controls),
            }
        )
    )


if __name__ == "__main__":
    main()
