"""Benchmark: collect a large generated cluster through the test API server.

    .venv/bin/python -m tests.benchmarks.bench_kubernetes [--runs N] [--workers N]

The cluster (200 namespaces, 10,000 pods, 3,000 service accounts, 5,000 bindings,
10,000 secrets, 2,000 services) is served over HTTP on 127.0.0.1 by a child process,
so the collector's time and peak RSS are measured alone, as they would be against a
real API server. Budget: the collect well under 10 s, peak RSS under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.model import Target

SIZES = {
    "namespaces": 200,
    "pods": 10_000,
    "service_accounts": 3_000,
    "bindings": 5_000,
    "secrets": 10_000,
    "services": 2_000,
}
TOKEN = "bench-token"
CONTEXT = "bench"


def _serve(conn, sizes: dict[str, int]) -> None:  # runs in the child process
    from tests.kube import KubeAPIServer, generate_cluster

    with KubeAPIServer(generate_cluster(**sizes), token=TOKEN) as server:
        conn.send(server.url)
        conn.recv()  # until the parent says stop


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="collects to time (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="lists in flight at once")
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args(argv)

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, SIZES), daemon=True)
    started = time.perf_counter()
    server.start()
    url = parent.recv()
    print(f"server: {url}, estate generated in {time.perf_counter() - started:.1f} s")
    rss_before = _peak_rss_mb()

    from tests.kube import write_kubeconfig

    timings = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", {CONTEXT: (url, TOKEN)})
            target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
            collector = KubernetesCollector(workers=args.workers, page_size=args.page_size)
            result = None
            for number in range(1, args.runs + 1):
                result = None  # let the previous run's resources go before measuring again
                began, cpu = time.perf_counter(), _cpu_seconds()
                result = collector.collect(target)
                seconds = time.perf_counter() - began
                cpu = _cpu_seconds() - cpu
                timings.append(seconds)
                run = result.run
                print(
                    f"run {number}: {seconds:.2f} s ({cpu:.2f} s CPU in the collector), "
                    f"{len(result.resources)} resources, "
                    f"{run.api_calls} API calls, status {run.status.value}"
                    + (f" ({run.error})" if run.error else "")
                )
            kinds = Counter(r.kind for r in result.resources)
            print("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
            import postureapp.checks  # noqa: F401  (the shipped catalog)
            from postureapp.engine import Engine

            began = time.perf_counter()
            findings = Engine({}).judge(result.resources, [result.run])
            check_seconds = time.perf_counter() - began
            print(f"checks: {len(findings)} findings in {check_seconds:.2f} s")
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(
        f"collect: median {statistics.median(timings):.2f} s over {len(timings)} run(s); "
        f"peak RSS {_peak_rss_mb():.0f} MB (before collecting: {rss_before:.0f} MB)"
    )
    figures = {
        "collect_s": round(statistics.median(timings), 2),
        "checks_s": round(check_seconds, 2),
        "collect_plus_checks_s": round(statistics.median(timings) + check_seconds, 2),
        "resources": len(result.resources),
        "findings": len(findings),
        "api_calls": result.run.api_calls,
        "peak_rss_mb": round(_peak_rss_mb()),
    }
    print(json.dumps(figures))
    return 0 if result.run.status.value == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
