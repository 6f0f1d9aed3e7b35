"""The HTML report with 30,000-character names, opened in headless Chromium (issue 13).

Twenty failing findings whose resource names are 30,000 characters of emoji sequences
or of Arabic and Hebrew: scripts Chromium shapes slowly. Before names were cut for
display the page took 105 s (emoji) and 29 s (Arabic) to be ready; "ready" is the
report script's ``data-ready="1"``, then a forced layout and a screenshot (paint).

Run: ``python -m tests.benchmarks.bench_html_long_names`` (one JSON object of seconds on
the last line of stdout); ``make bench`` runs it with the others.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from postureapp.export.html import render_html
from tests.export.chromium import browser

LENGTH = 30_000
SCRIPTS = {
    "emoji": "\U0001f468\u200d\U0001f469x",
    "arabic": "\u0627\u0628\u062a \u05d0\u05d1",
}


def _document(filler: str) -> dict:
    name = (filler * (LENGTH // len(filler) + 1))[:LENGTH]
    findings = []
    resources = []
    for n in range(20):
        uid = f"k8s://prod/shop/Pod/{n}{name}"
        resources.append(
            {"uid": uid, "name": f"{n}{name}", "kind": "Pod", "namespace": "shop",
             "provider": "kubernetes", "scope": "prod"}
        )  # fmt: skip
        findings.append(
            {"fingerprint": f"{n:032x}", "check_id": "k8s-pod-privileged", "severity": "high",
             "status": "fail", "view": "identities", "resource_uid": uid,
             "title": "Privileged pod", "detail": f"pod {n}{name} runs privileged",
             "waived": False, "waiver": None, "first_seen": "2026-11-22T08:00:00Z"}
        )  # fmt: skip
    return {
        "schema": "postureapp/snapshot/v1",
        "generated_at": "2026-11-22T09:00:00Z",
        "tool": {"name": "postureapp", "version": "bench"},
        "snapshot": {"id": 1, "status": "complete", "started_at": "2026-11-22T08:00:00Z",
                     "finished_at": "2026-11-22T08:01:00Z", "resource_count": 20},
        "collector_runs": [],
        "resources": resources,
        "findings": findings,
        "controls": [],
        "changes": None,
    }  # fmt: skip


def _ready_seconds(path: Path) -> float:
    with browser() as page:
        page._socket.settimeout(600)  # a stalled page answers nothing until it is done
        began = time.monotonic()
        page.send("Page.navigate", url=path.as_uri())
        page.wait_for("document.body && document.body.dataset.ready === '1'", timeout=600)
        page.evaluate("document.body.getBoundingClientRect().height")
        page.send("Page.captureScreenshot", format="png")
        return time.monotonic() - began


def main() -> None:
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, filler in SCRIPTS.items():
            path = Path(folder) / f"{label}.html"
            path.write_text(render_html(_document(filler)), encoding="utf-8")
            figures[f"html_{label}_30k_names_mb"] = round(path.stat().st_size / 1e6, 2)
            figures[f"html_{label}_30k_names_ready_s"] = round(_ready_seconds(path), 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
