"""Fleet benchmark: an organisation of 100 accounts x 2 regions plus 10 clusters of 1,000
pods, collected by one ``posture collect`` on this machine; then 111 parts merged.

* moto's server runs in its own process (single-threaded Python: it serves one request
  at a time, so it bounds the AWS side; its CPU time is reported), seeded with the
  management account and 99 members, each a typical small account in both regions
  (3 roles, a user with a key, 2 security groups, a secret per region, a bucket);
* 10 Kubernetes API servers (the project's emulator, in this process) of 1,000 pods each;
* the collection runs as the installed console script in a child process: wall time,
  peak RSS (``getrusage`` of that child), API calls per account (from the cache);
* the cost of an added account: the same AWS-only collection of half the accounts
  (``--shard 0/2``) and of all, ``(T_all - T_half) / (N_all - N_half)``;
* the merge: each target of the full collection written as its own part (a cache, as
  ``collect --part`` writes), 111 parts, merged by ``posture merge`` in a child process;
  then merged again (nothing new: nothing written).

Run: ``python -m tests.benchmarks.bench_fleet`` (last stdout line: JSON figures).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration.fleet.estate import (  # noqa: E402
    CREDENTIALS,
    MANAGEMENT,
    moto_process,
    seed_organization,
    seed_typical_account,
)

ACCOUNTS = 100  # the management account and 99 members
REGIONS = ("us-east-1", "eu-west-1")
CLUSTERS = 10
PODS = 1_000
BIN = Path(sys.executable).parent


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run posture; (wall seconds, peak RSS MiB of that very child, stderr)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [str(BIN / "posture"), *args], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - began
        err.seek(0)
        stderr = err.read()
    if process.returncode not in (0, 3):
        raise RuntimeError(f"posture {' '.join(args)}: exit {process.returncode}\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stderr


def _moto_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from tests.kube import KubeAPIServer, generate_cluster, write_kubeconfig

    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    figures: dict[str, float] = {}
    servers = []
    for index in range(CLUSTERS):
        objects = generate_cluster(
            namespaces=20,
            pods=PODS,
            service_accounts=200,
            bindings=300,
            secrets=500,
            services=150,
            seed=index,
        )
        servers.append(KubeAPIServer(objects, token=f"bench-{index}").start())
    contexts = {f"cluster-{i:02d}": (s.url, s.token) for i, s in enumerate(servers)}
    kubeconfig = write_kubeconfig(work / "kubeconfig", contexts, "cluster-00")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POSTURE_"))},
        **CREDENTIALS,
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / "config"),
        "KUBECONFIG": str(kubeconfig),
        "AWS_CONFIG_FILE": str(work / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "none"),
    }
    with moto_process() as endpoint:
        began = time.perf_counter()
        org = seed_organization(endpoint, members=ACCOUNTS - 1, suspended=0)
        for account in [MANAGEMENT, *org.accounts.values()]:
            seed_typical_account(org, account, REGIONS)
        figures["seed_seconds"] = round(time.perf_counter() - began, 1)
        pid = endpoint.pid
        aws = ["--organization", "--endpoint-url", endpoint]
        aws += [arg for region in REGIONS for arg in ("--region", region)]

        # The slope: half the accounts, then all of them (AWS only).
        half_db, all_db = work / "half.db", work / "aws.db"
        half, _, _ = _child(["collect", *aws, "--shard", "0/2", "--db", str(half_db)], env)
        n_half = _count_accounts(half_db)
        every, _, _ = _child(["collect", *aws, "--db", str(all_db)], env)
        n_all = _count_accounts(all_db)
        figures["aws_only_seconds_half"] = round(half, 1)
        figures["aws_only_accounts_half"] = n_half
        figures["aws_only_seconds_all"] = round(every, 1)
        figures["seconds_per_added_account"] = round((every - half) / (n_all - n_half), 3)

        # The whole fleet in one process.
        fleet_db = work / "fleet.db"
        cpu_before = _moto_cpu(pid)
        seconds, peak, stderr = _child(
            ["collect", *aws, "--all-contexts", "--db", str(fleet_db)], env
        )
        figures["fleet_seconds"] = round(seconds, 1)
        figures["fleet_peak_rss_mib"] = round(peak, 0)
        figures["moto_cpu_seconds_during_fleet"] = round(_moto_cpu(pid) - cpu_before, 1)
        calls = _calls(fleet_db)
        figures["accounts"] = len(calls)
        figures["api_calls_per_account_median"] = statistics.median(calls)
        figures["api_calls_per_account_max"] = max(calls)
        figures["clusters"] = sum(1 for line in stderr.splitlines() if "kubernetes " in line) or (
            CLUSTERS
        )

        # 111 parts, then the merge.
        parts = work / "parts"
        count = _split_into_parts(fleet_db, parts)
        figures["parts"] = count
        merged = work / "merged.db"
        seconds, peak, _ = _child(["merge", str(parts), "--db", str(merged)], env)
        figures["merge_seconds"] = round(seconds, 1)
        figures["merge_peak_rss_mib"] = round(peak, 0)
        again, _, stderr = _child(["merge", str(parts), "--db", str(merged)], env)
        assert "nothing new to merge" in stderr, stderr
        figures["remerge_seconds"] = round(again, 2)
    for server in servers:
        server.stop()
    print(json.dumps(figures))


def _count_accounts(db: Path) -> int:
    from postureapp.store import Store

    with Store(db, readonly=True) as store:
        return sum(1 for run in store.latest().runs if run.collector == "aws")


def _calls(db: Path) -> list[int]:
    from postureapp.store import Store

    with Store(db, readonly=True) as store:
        return [r.api_calls for r in store.latest().runs if r.collector == "aws"]


def _split_into_parts(db: Path, folder: Path) -> int:
    """Each target of one collection as its own part: a cache holding one snapshot of
    that target's run and resources, as ``posture collect --target T --part`` writes."""
    from postureapp.fleet.merge import _owned, run_key
    from postureapp.store import Store

    with Store(db, readonly=True) as store:
        snapshot = store.latest()
        for run in snapshot.runs:
            resources = _owned(store, snapshot.id, [run], [run_key(run)])
            target = folder / f"{run.collector}-{run.target}" / "20250101T000000000000Z.db"
            target.parent.mkdir(parents=True)
            with Store(target) as part:
                part.write_snapshot(
                    started_at=snapshot.started_at,
                    finished_at=snapshot.finished_at or snapshot.started_at,
                    status=snapshot.status,
                    runs=[run],
                    resources=resources,
                    findings=[],
                )
        return len(snapshot.runs)


if __name__ == "__main__":
    main()
