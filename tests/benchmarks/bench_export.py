"""Export benchmark: a cache of 50,000 resources / 100,000 findings (plus an earlier
snapshot with 5% change, so the document carries a real diff), then build_document and
every format's writer, and the HTML report opened in headless Chromium.

Budgets (issue 7): each writer < 3 s, HTML < 5 s, the HTML opens in Chromium < 3 s.
The HTML keeps its DOM light at any size: rows travel as JSON and the page's script
renders 100 rows per table page, so Chromium's time is mostly parsing the JSON.
"Opens" is measured over the DevTools protocol, from navigation to the script's
``data-ready="1"``; ``--dump-dom`` wall time is reported too, with a blank page's for
comparison (Chromium start-up), though printing the 20 MB DOM dominates it.

Run: ``python -m tests.benchmarks.bench_export`` (one run; one JSON object on the last
line of stdout, seconds and MB); ``make bench`` runs it several times and prints medians.
"""

from __future__ import annotations

import gc
import json
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from postureapp.export import EXTENSIONS, FORMATS, build_document
from postureapp.export.gate import evaluate_gate, load_baseline
from postureapp.model import Severity, SnapshotStatus
from postureapp.store import Store
from tests.benchmarks.estate import _KINDS, generate_findings, generate_resources, mutate

RESOURCES = 50_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _catalog() -> list[dict]:
    """Catalog entries for the estate's check ids, so SARIF has real rules."""
    entries = []
    for _, kind, view in _KINDS:
        for number in range(2):
            entries.append(
                {
                    "id": f"bench-check-{number}-{kind.lower()}",
                    "title": f"{kind} check {number}",
                    "view": view.value,
                    "severity": "high",
                    "provider": "kubernetes",
                    "remediation": "Fix it.",
                    "frameworks": {"ISO 27001:2022": ["A.8.2"]},
                    "references": [],
                    "description": f"Benchmark check {number} on {kind}.",
                }
            )
    return entries


def _chromium_seconds(url: str) -> float | None:
    """Wall time of ``chromium --headless --dump-dom`` on ``url`` (None without one)."""
    binary = shutil.which("chromium")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        began = time.perf_counter()
        result = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        seconds = time.perf_counter() - began
    if 'data-ready="1"' not in result.stdout:
        raise RuntimeError(f"the report's script did not finish: {result.stderr[-500:]}")
    return seconds


def _write_cache(path: Path) -> None:
    resources = generate_resources(RESOURCES)
    before = mutate(resources, share=0.05)
    with Store(path) as store:
        for items in (before, resources):
            store.write_snapshot(
                started_at="2026-11-22T00:00:00Z",
                finished_at="2026-11-22T00:00:01Z",
                status=SnapshotStatus.COMPLETE,
                runs=[],
                resources=items,
                findings=generate_findings(items),
                catalog=_catalog(),
            )


def _chromium_ready_seconds(url: str) -> float | None:
    """Seconds from navigation until the report's script has rendered its tables
    (``data-ready="1"``), in an already running headless Chromium."""
    if shutil.which("chromium") is None:
        return None
    from tests.export.chromium import browser

    with browser() as page:
        began = time.perf_counter()
        page.send("Page.navigate", url=url)
        page.wait_for("document.body !== null && document.body.dataset.ready === '1'", 60)
        return time.perf_counter() - began


def main() -> None:
    figures: dict[str, float | int | None] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        # The estate is built in a function and dropped: `posture export` runs in its own
        # process and starts from the cache, not with a million objects on the heap.
        _write_cache(root / "bench.db")
        gc.collect()
        store = Store(root / "bench.db")
        snapshot = store.latest()

        began = time.perf_counter()
        document = build_document(store, snapshot)
        figures["build_document_s"] = round(time.perf_counter() - began, 3)
        figures["findings"] = len(document["findings"])
        figures["changes_rows"] = sum(
            len(document["changes"][k]) for k in ("opened", "resolved", "changed")
        )

        for fmt, writer in FORMATS.items():
            path = root / f"export{EXTENSIONS[fmt]}"
            began = time.perf_counter()
            with path.open("w", encoding="utf-8", newline="") as out:
                writer(document, out)
            figures[f"{fmt}_s"] = round(time.perf_counter() - began, 3)
            figures[f"{fmt}_mb"] = round(path.stat().st_size / 1e6, 1)

        began = time.perf_counter()
        baseline = load_baseline(str(root / "export.json"), None)  # parse + schema-validate
        figures["load_baseline_json_s"] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()
        evaluate_gate(document, Severity.HIGH, baseline=baseline)
        figures["evaluate_gate_s"] = round(time.perf_counter() - began, 3)

        report = (root / "export.html").as_uri()
        figures["chromium_ready_html_s"] = _round(_chromium_ready_seconds(report))
        blank = root / "blank.html"
        blank.write_text('<!DOCTYPE html><title>x</title><body data-ready="1"></body>')
        figures["chromium_dump_dom_blank_s"] = _round(_chromium_seconds(blank.as_uri()))
        # --dump-dom also prints the whole DOM (the 20 MB data block included) to stdout,
        # which is most of its time; the figure above is what a reader waits for.
        figures["chromium_dump_dom_html_s"] = _round(_chromium_seconds(report))
        store.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    main()
