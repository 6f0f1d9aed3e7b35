"""Benchmark: a whole poll of a large cluster through the installed ``posture`` command.

    .venv/bin/python -m tests.benchmarks.bench_poll

The generated cluster (10,000 pods, 31,000 objects; see bench_kubernetes) is served over
HTTP by a child process. ``posture collect`` then runs as its own process, start-up,
collection, checks, derived facts and the store write included: its CPU time (user +
system, from the kernel's accounting of the child) and wall time are the figures of
issue 14 (budget: 6 s CPU). It runs twice on one cache; the second poll finds nothing
changed, and the store write of such a poll is timed in-process too (budget 0.5 s).
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_kubernetes import CONTEXT, SIZES, TOKEN, _serve

POSTURE = str(Path(sys.executable).with_name("posture"))


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _poll(db: Path, kubeconfig: Path) -> dict[str, float]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "POSTURE_DB": str(db)}
    cpu, began = _child_cpu(), time.perf_counter()
    process = subprocess.Popen(
        ["/usr/bin/time", "-f", "maxrss_kb=%M", POSTURE, "collect", "--context", CONTEXT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate()
    wall = time.perf_counter() - began
    if process.returncode not in (0, 1):  # 1: findings at or above --fail-on (none set)
        raise SystemExit(f"posture collect exited {process.returncode}: {err[-2000:]}")
    rss = re.search(r"maxrss_kb=(\d+)", err)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(_child_cpu() - cpu, 2),
        "peak_rss_mb": round(int(rss.group(1)) / 1024) if rss else -1,
        "output": out.strip().splitlines()[-1] if out.strip() else "",
    }


def _unchanged_write_seconds(db: Path, kubeconfig: Path) -> tuple[float, float]:
    """The store write of a poll that finds nothing new, in-process: (wall, CPU) seconds
    (CPU beside wall: on a shared machine the wall time mostly measures the others)."""
    from postureapp.collectors.kubernetes import KubernetesCollector
    from postureapp.config import load_config
    from postureapp.model import Target
    from postureapp.poll import Poller
    from postureapp.store import Store

    target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
    with Store(db) as store:
        poller = Poller(
            store, {"kubernetes": KubernetesCollector()}, settings=load_config(None).thresholds()
        )
        judgement = poller.engine.run([target])
        # The collector resumed when engine.run returned, with the judgement's millions of
        # objects still counted as new: its next allocation would walk them all, inside
        # the timed write. `posture collect` never pays that (Poller.poll keeps the pause
        # from the collection to the write), so it is paid here, before the clock starts.
        gc.collect()
        began, cpu = time.perf_counter(), time.process_time()
        poller.write(judgement)
        return round(time.perf_counter() - began, 3), round(time.process_time() - cpu, 3)


def main() -> int:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, SIZES), daemon=True)
    server.start()
    url = parent.recv()
    from tests.kube import write_kubeconfig

    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", {CONTEXT: (url, TOKEN)})
            db = Path(tmp) / "cache.db"
            first = _poll(db, kubeconfig)
            second = _poll(db, kubeconfig)
            write, write_cpu = _unchanged_write_seconds(db, kubeconfig)
            size_mb = round(db.stat().st_size / 2**20, 1)
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(f"first poll: {first}\nunchanged re-poll: {second}")
    figures = {
        "poll_cpu_s": first["cpu_s"],
        "poll_wall_s": first["wall_s"],
        "poll_peak_rss_mb": first["peak_rss_mb"],
        "repoll_cpu_s": second["cpu_s"],
        "repoll_wall_s": second["wall_s"],
        "unchanged_write_s": write,
        "unchanged_write_cpu_s": write_cpu,
        "cache_mb": size_mb,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
