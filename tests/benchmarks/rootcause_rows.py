"""Rows on screen before and after root causes (issue 16), read from a cache as the
dashboard reads it.

    python -m tests.benchmarks.rootcause_rows CACHE        # a cache: the demo's, any
    python -m tests.benchmarks.rootcause_rows --demo DIR   # one poll of the demo estate first
    python -m tests.benchmarks.rootcause_rows --demo DIR --steps 1  # Grafana goes public
    python -m tests.benchmarks.rootcause_rows --large DIR  # collect a synthetic cluster first

"Before" is one row per finding (the overview listed the worst failing findings, a view
one row per finding); "after" is one row per root cause.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

TOP = 20


def measure(path: Path) -> dict[str, object]:
    from postureapp.store import Store
    from postureapp.store.filters import parse_filter
    from postureapp.store.views import DashboardQueries, Sort

    store = Store(path)
    queries = DashboardQueries(store)
    queries.reload()
    conn = queries.conn
    open_where = "status = 'fail' AND waiver != 1"
    failing = conn.execute(f"SELECT count(*) FROM temp.tui_findings WHERE {open_where}")
    groups = conn.execute(
        "SELECT count(DISTINCT coalesce(cause, 'row:' || rid)) FROM temp.tui_findings"
        f" WHERE {open_where}"
    )
    before_top = conn.execute(
        "SELECT count(DISTINCT coalesce(cause, 'row:' || rid)) FROM (SELECT * FROM"
        f" temp.tui_findings WHERE {open_where}"
        " ORDER BY severity_rank DESC, first_seen, check_id, name LIMIT ?)",
        (TOP,),
    )
    after = queries.overview(top=TOP).top_risks
    failing_count = failing.fetchone()[0]
    figures: dict[str, object] = {
        "open_failing_findings": failing_count,
        "open_failing_rows_folded": groups.fetchone()[0],
        f"top{TOP}_before_rows": min(TOP, failing_count),
        f"top{TOP}_before_distinct_causes": before_top.fetchone()[0],
        f"top{TOP}_after_rows": len(after),
        f"top{TOP}_after_findings_covered": sum(row.get("affects", 1) for row in after),
    }
    for view in ("identities", "endpoints", "secrets"):
        spec = parse_filter("")
        plain = queries.query(view, spec, Sort())
        folded = queries.query(view, spec, Sort(), fold=True)
        figures[f"{view}_rows_before_after"] = [len(plain), len(folded)]
    critical_unknown = parse_filter("status:unknown sev:critical")
    figures["identities_critical_unknown_before_after"] = [
        len(queries.query("identities", critical_unknown, Sort())),
        len(queries.query("identities", critical_unknown, Sort(), fold=True)),
    ]
    figures["top_after"] = [
        f"{row['severity']:<8} {row.get('affects', 1):>5}  "
        + (row["cause_label"] if row.get("affects", 1) > 1 else f"{row['title']} ({row['name']})")
        for row in after[:10]
    ]
    store.close()
    return figures


def collect_large(folder: Path) -> Path:
    """A synthetic cluster (tests.kube.generate_cluster at its default size) collected
    by the installed posture, through the Kubernetes API emulator."""
    from tests.kube import KubeAPIServer, generate_cluster

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "cache.db"
    with KubeAPIServer(generate_cluster(), token="rows") as server:
        kubeconfig = server.write_kubeconfig(folder / "kubeconfig", context="large")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "POSTURE_DB": str(db)}
        posture = str(Path(sys.executable).with_name("posture"))
        subprocess.run(
            [posture, "collect", "--context", "large", "--allow-partial"], env=env, check=True
        )
    return db


def collect_demo(folder: Path, steps: int = 0) -> Path:
    """A poll of the demo estate (probes on), as ``posture demo`` makes it, after
    ``steps`` changes of its story (1: Grafana behind a public load balancer); the cache
    is copied out before the demo removes its folder."""
    import shutil

    from postureapp.config import load_config
    from postureapp.demo import DemoEnvironment
    from postureapp.poll import run_poll
    from postureapp.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "cache.db"
    config = load_config(environ={})
    with DemoEnvironment(probe=True) as demo:
        with Store(demo.db_path) as store:
            run_poll(store, config, demo.targets)
            for _ in range(steps):
                print(f"demo: {demo.evolve()}", file=sys.stderr)
                run_poll(store, config, demo.targets)
        shutil.copy(demo.db_path, db)  # closed: the WAL is folded into the file
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", nargs="?", type=Path)
    parser.add_argument("--large", type=Path, metavar="DIR")
    parser.add_argument("--demo", type=Path, metavar="DIR")
    parser.add_argument("--steps", type=int, default=0, help="demo story changes first")
    args = parser.parse_args()
    if args.demo:
        path = collect_demo(args.demo, args.steps)
    else:
        path = collect_large(args.large) if args.large else args.cache
    if path is None:
        parser.error("give a cache, or --large DIR")
    print(json.dumps(measure(path), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
