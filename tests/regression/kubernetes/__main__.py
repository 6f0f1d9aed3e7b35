"""Score the Kubernetes regression bank: per category, live and offline, the true and
false positives and negatives and the expectations left without a verdict.

    python -m tests.regression.kubernetes [--markdown] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.regression.kubernetes import bank
from tests.regression.kubernetes.bank import load_cases, run, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--json", metavar="PATH", help="also write every outcome as JSON")
    parser.add_argument(
        "--plain-dump", action="store_true", help="offline: only the lists, no discovery"
    )
    args = parser.parse_args(argv)
    bank.PLAIN_DUMP = args.plain_dump
    cases = load_cases()
    results = []
    orphaned = set()
    for outcome, lost in run(cases):
        results.append(outcome)
        orphaned.update(f"{outcome.mode}: {uid}" for uid in lost)
    peers = sum(case.origin == "peer" for case in cases)
    print(
        f"Kubernetes regression bank: {len(cases)} cases ({peers} from peer fixtures, "
        f"{len(cases) - peers} own), {len(results) // 2} expectations, live and offline\n"
    )
    print(table(results, markdown=args.markdown))
    misses = [o for o in results if o.cell in ("FP", "FN", "no-verdict")]
    if misses or args.verbose:
        print()
        for outcome in misses:
            e = outcome.expectation
            print(
                f"{outcome.cell} {outcome.mode} {outcome.case.id}: {e.check} {e.ref} "
                f"expected {e.verdict}: {outcome.detail[:200]}"
            )
    if args.json:
        rows = [
            {
                "case": o.case.id,
                "category": o.case.category,
                "mode": o.mode,
                "check": o.expectation.check,
                "resource": o.expectation.ref,
                "expected": o.expectation.verdict,
                "got": o.got,
                "cell": o.cell,
            }
            for o in results
        ]
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    if orphaned:
        print(f"\nfindings on resources the snapshot does not hold: {sorted(orphaned)[:10]}")
    return 1 if misses or orphaned else 0


if __name__ == "__main__":
    sys.exit(main())
