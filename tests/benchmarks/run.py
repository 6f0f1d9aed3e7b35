"""Run every benchmark several times, each in a fresh process (so peak RSS is its own),
and print the median of each figure. ``make bench`` calls this.

Benchmarks are modules in this package named ``bench_*.py`` whose ``main()`` prints one
JSON object of figures on its last line of stdout.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


# These repeat internally (fresh processes where it matters) and print their medians.
SELF_REPEATING = {"bench_aws", "bench_serve", "bench_tui"}


def run(module: str, repeats: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        result = subprocess.run(
            [sys.executable, "-m", f"tests.benchmarks.{module}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if result.returncode != 0:
            print(f"{module}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
            return {}
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        for key, value in figures.items():
            samples.setdefault(key, []).append(value)
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> int:
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    selected = sys.argv[1:] or sorted(p.stem for p in HERE.glob("bench_*.py"))
    failed = False
    for module in selected:
        medians = run(module, 1 if module in SELF_REPEATING else repeats)
        failed |= not medians
        print(f"{module} (median of {repeats}):")
        for key, value in medians.items():
            print(f"  {key:<42} {value}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
