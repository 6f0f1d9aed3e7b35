"""HTML: one self-contained report file to attach to an audit or open on call.

Safety, in layers (each is tested on its own):

0. Control characters and bidi overrides in outside text are spelled out (``\\x1b``,
   ``\\u202e``) and line breaks become spaces, as in the CLI: the reader sees what is
   there, in the order it is stored. Very long text is cut for display (names and
   titles at :data:`NAME_LIMIT` characters, details at :data:`TEXT_LIMIT`), saying how
   much was left out: a 30,000-character name in a script Chromium shapes slowly (emoji,
   Arabic) kept the page from being ready for minutes. The JSON export has every value.
1. Everything from the outside world is escaped: the page is rendered by Jinja2 with
   autoescape on, and the table data for the script sits in a
   ``<script type="application/json">`` block where ``<``, ``>``, ``&``, U+2028 and
   U+2029 are written as ``\\u003c``-style escapes, so no string can close the block.
2. The inline script builds table rows with ``createElement``/``textContent`` only;
   it never assigns HTML (no ``innerHTML``, no ``insertAdjacentHTML``).
3. A Content-Security-Policy allows no network at all (``default-src 'none'``), inline
   styles, and exactly one script: ours, by its SHA-256 hash. Injected markup that
   slipped past (1) could still not run a script or an event handler.

No external URL is referenced: no CDN, font or image, so the file works offline and
leaks nothing when opened.

Scale: a snapshot can hold 100,000 findings. A DOM of 100,000 table rows takes a
browser many seconds and hundreds of MB, so every table's rows travel as JSON and the
script renders one page of rows at a time (sorting and filtering run over all rows in
memory). Without JavaScript each table still shows its first page, rendered here.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import IO, Any

from postureapp.export.common import (
    SEVERITY_ORDER,
    ResourceIndex,
    bulk,
    describe_run,
    one_line,
    run_problem,
    runs_in_trouble,
)
from postureapp.export.snapshot_json import document_score, score_line, summarize
from postureapp.graph.model import KIND_LABELS, describe_hop
from postureapp.model import SEVERITY_RANK, View
from postureapp.text import shorten

PAGE_SIZE = 100
NAME_LIMIT = 300  # names, uids, titles, targets
TEXT_LIMIT = 2000  # details, errors, evidence
VIEWS = [view.value for view in View]
VIEW_TITLES = {
    "identities": "Identities",
    "endpoints": "Exposed endpoints",
    "secrets": "Stale secrets",
    "governance": "Governance",
}
_STATUS_ORDER = {"fail": 0, "unknown": 1, "error": 2, "pass": 3}

FINDING_COLUMNS = [
    {"label": "Severity", "i": 0, "type": "severity"},
    {"label": "Status", "i": 1, "type": "status"},
    {"label": "Check", "i": 2},
    {"label": "Resource", "i": 3, "sub": 4},
    {"label": "Finding", "i": 5, "sub": 6},
    {"label": "Waiver", "i": 7},
    {"label": "First seen", "i": 8},
    {"label": "Remediation", "i": 9, "type": "fix"},
]
CHANGE_COLUMNS = [
    {"label": "Severity", "i": 0, "type": "severity"},
    {"label": "Before", "i": 1, "type": "status"},
    {"label": "Now", "i": 2, "type": "status"},
    {"label": "Check", "i": 3},
    {"label": "Resource", "i": 4, "sub": 7},
    {"label": "Finding", "i": 5},
    {"label": "What moved", "i": 6},
]
CONTROL_COLUMNS = [
    {"label": "Control", "i": 0, "sub": 1},
    {"label": "Status", "i": 2, "type": "status"},
    {"label": "Coverage", "i": 3, "type": "pct"},
    {"label": "Frameworks", "i": 4},
    {"label": "Evidence (checks)", "i": 5},
    {"label": "Attestation", "i": 6},
]
RUN_COLUMNS = [
    {"label": "Collector", "i": 0},
    {"label": "Target", "i": 1, "sub": 2},
    {"label": "Status", "i": 3, "type": "status"},
    {"label": "Items", "i": 4, "type": "num"},
    {"label": "API calls", "i": 5, "type": "num"},
    {"label": "Seconds", "i": 6, "type": "num"},
    {"label": "Problem", "i": 7},
]

# The page's only script. Its SHA-256 goes into the CSP, so it must be emitted exactly
# as written here. It reads data with JSON.parse and writes text with textContent.
SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("posture-data").textContent);
  var RANK = {critical: 4, high: 3, medium: 2, low: 1, info: 0};
  var STATUS = {fail: 1, pass: 1, unknown: 1, error: 1, ok: 1, partial: 1, failed: 1,
                complete: 1, absent: 1, unpolled: 1};
  var PAGE = data.page_size;
  var fmt = new Intl.NumberFormat("en");

  function badge(kind, value) {
    var span = document.createElement("span");
    var known = kind === "sev" ? RANK.hasOwnProperty(value) : STATUS.hasOwnProperty(value);
    span.className = "badge " + kind + "-" + (known ? value : "other");
    span.textContent = value;
    return span;
  }

  function fillCell(td, col, row) {
    var value = row[col.i];
    if (col.type === "severity") { td.appendChild(badge("sev", value)); }
    else if (col.type === "status") { td.appendChild(badge("st", value)); }
    else if (col.type === "pct") {
      td.textContent = value === null ? "\u2014" : Math.round(value * 100) + "%";
    } else if (col.type === "fix") { td.textContent = value === null ? "" : data.fixes[value]; }
    else { td.textContent = value === null ? "" : String(value); }
    if (col.type === "num" || col.type === "pct") { td.className = "num"; }
    if (col.sub !== undefined && row[col.sub]) {
      var sub = document.createElement("div");
      sub.className = "sub";
      sub.textContent = row[col.sub];
      td.appendChild(sub);
    }
  }

  function sortKey(col, value) {
    if (col.type === "severity") { return RANK.hasOwnProperty(value) ? RANK[value] : -1; }
    if (col.type === "num" || col.type === "pct") { return value === null ? -1 : value; }
    if (col.type === "fix") { return value === null ? "" : data.fixes[value].toLowerCase(); }
    return value === null ? "" : String(value).toLowerCase();
  }

  function setup(box) {
    var spec = data.tables[box.getAttribute("data-table")];
    var table = box.querySelector("table");
    var search = box.querySelector("input[type=search]");
    var passing = box.querySelector("input[data-passing]");
    var info = box.querySelector("[data-info]");
    var prev = box.querySelector("button[data-prev]");
    var next = box.querySelector("button[data-next]");
    var heads = table.tHead.rows[0].cells;
    var state = {view: spec.rows, page: 0, sort: -1, dir: 1};
    var texts = null;
    var fixAt = -1;
    spec.columns.forEach(function (col) { if (col.type === "fix") { fixAt = col.i; } });

    function textOf(index) {
      if (texts === null) {
        texts = spec.rows.map(function (row) {
          if (fixAt >= 0 && row[fixAt] !== null) {
            row = row.slice();
            row[fixAt] = data.fixes[row[fixAt]];
          }
          return row.join("\u0001").toLowerCase();
        });
      }
      return texts[index];
    }

    function apply() {
      var query = search.value.trim().toLowerCase();
      var showPass = !passing || passing.checked;
      var picked = [];
      for (var n = 0; n < spec.rows.length; n++) {
        var row = spec.rows[n];
        if (!showPass && row[spec.status] === "pass") { continue; }
        if (query && textOf(n).indexOf(query) < 0) { continue; }
        picked.push(n);
      }
      if (state.sort >= 0) {
        var col = spec.columns[state.sort], dir = state.dir;
        var keys = picked.map(function (n) { return sortKey(col, spec.rows[n][col.i]); });
        var order = picked.map(function (_, k) { return k; });
        order.sort(function (a, b) {
          if (keys[a] < keys[b]) { return -dir; }
          if (keys[a] > keys[b]) { return dir; }
          return a - b;
        });
        picked = order.map(function (k) { return picked[k]; });
      }
      state.view = picked;
      state.page = 0;
      render();
    }

    function render() {
      var total = state.view.length;
      var start = state.page * PAGE, end = Math.min(start + PAGE, total);
      var body = document.createElement("tbody");
      for (var n = start; n < end; n++) {
        var row = spec.rows[state.view[n]];
        var tr = document.createElement("tr");
        for (var c = 0; c < spec.columns.length; c++) {
          var td = document.createElement("td");
          fillCell(td, spec.columns[c], row);
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      table.replaceChild(body, table.tBodies[0]);
      info.textContent = total === 0 ? "No rows match." :
        "Rows " + fmt.format(start + 1) + "\u2013" + fmt.format(end) + " of " +
        fmt.format(total) + (total === spec.rows.length ? "" :
        " (filtered from " + fmt.format(spec.rows.length) + ")");
      prev.disabled = state.page === 0;
      next.disabled = end >= total;
    }

    Array.prototype.forEach.call(heads, function (th, index) {
      th.tabIndex = 0;
      function sortBy() {
        state.dir = state.sort === index ? -state.dir : (spec.columns[index].type ===
          "severity" || spec.columns[index].type === "num" ? -1 : 1);
        state.sort = index;
        Array.prototype.forEach.call(heads, function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        apply();
      }
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(); }
      });
    });
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(apply, 120);
    });
    if (passing) { passing.addEventListener("change", apply); }
    prev.addEventListener("click", function () { state.page -= 1; render(); });
    next.addEventListener("click", function () { state.page += 1; render(); });
    return {search: search, apply: apply};
  }

  var boxes = Array.prototype.map.call(
    document.querySelectorAll("[data-table]"), setup);
  var hash = /^#q=(.*)$/.exec(window.location.hash);
  var initial = hash ? decodeURIComponent(hash[1]) : "";
  boxes.forEach(function (box) {
    box.search.value = initial;
    box.apply();
  });
  document.body.setAttribute("data-ready", "1");
})();
"""

SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --line: #d8dce4;
  --bg: #ffffff; --panel: #f4f6f9; --crit: #8b0a1a; --high: #c2410c; --med: #a16207;
  --low: #1d4ed8; --info: #475569; --ok: #15803d; }
@media (prefers-color-scheme: dark) { :root { --fg: #e5e7eb; --muted: #9aa3b2;
  --line: #343b48; --bg: #12151b; --panel: #1b1f27; --crit: #f87171; --high: #fb923c;
  --med: #facc15; --low: #93c5fd; --info: #cbd5e1; --ok: #4ade80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
header, main, nav { max-width: 1400px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav { display: flex; gap: 14px; flex-wrap: wrap; padding-top: 8px; padding-bottom: 8px;
  border-bottom: 1px solid var(--line); }
nav a { color: inherit; }
.meta, .sub, .note { color: var(--muted); }
.sub { font-size: 12px; word-break: break-all; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 22px; }
.alert { border: 2px solid var(--high); border-radius: 6px; padding: 8px 12px;
  margin: 12px 0; background: var(--panel); }
.alert ul { margin: 4px 0 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--panel); position: sticky; top: 0; user-select: none;
  white-space: nowrap; overflow-wrap: normal; }
[data-table] th { cursor: pointer; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.tools { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
.tools input[type=search] { min-width: 280px; padding: 4px 6px; }
.pager { display: flex; gap: 8px; align-items: center; margin: 4px 0 10px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.sev-critical { color: var(--crit); } .sev-high { color: var(--high); }
.sev-medium { color: var(--med); } .sev-low { color: var(--low); }
.sev-info, .sev-other, .st-other, .st-absent, .st-unpolled { color: var(--info); }
.st-fail, .st-failed { color: var(--crit); } .st-partial, .st-unknown, .st-error {
  color: var(--high); } .st-pass, .st-ok, .st-complete { color: var(--ok); }
.big { font-size: 14px; vertical-align: middle; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="postureapp {{ tool_version }}">
<title>Posture snapshot {{ snapshot.id }} ({{ snapshot.status }})</title>
<style>{{ css }}</style>
</head>
<body data-ready="0" data-snapshot-status="{{ snapshot.status }}">
<header>
<h1>Posture snapshot {{ snapshot.id }}
<span class="badge big st-{{ snapshot.status }}" id="snapshot-status">
{%- if snapshot.status == "complete" %}complete{% else %}{{ snapshot.status | upper }}{% endif -%}
</span></h1>
<div class="meta">started {{ snapshot.started_at }} · finished {{ snapshot.finished_at or "never" }}
 · generated {{ generated_at }} by postureapp {{ tool_version }}</div>
</header>
<nav>
<a href="#summary">Summary</a>
{%- for view in views %}
<a href="#{{ view.id }}">{{ view.title }} ({{ view.open }})</a>
{%- endfor %}
<a href="#checklist">Governance checklist</a>
{%- if attack_paths is not none %}
<a href="#attack-paths">Attack paths ({{ attack_paths | length }})</a>
{%- endif %}
<a href="#changes">Changes</a>
</nav>
<main>
<noscript><p class="alert">Sorting, filtering and paging need JavaScript; each table shows
its first {{ page_size }} rows. The JSON and CSV exports hold every row.</p></noscript>

<section id="summary">
<h2>Summary</h2>
{%- if snapshot.status != "complete" %}
<div class="alert" id="partial-warning"><b>This snapshot is {{ snapshot.status }}.</b>
{{ troubled | length }} of {{ runs | length }} collector runs did not finish cleanly; what
they could not read is unknown here, never passing.
<ul>
{%- for line in troubled %}
<li>{{ line }}</li>
{%- endfor %}
</ul></div>
{%- endif %}
<div class="cards">
<div class="card" id="posture-score" title="{{ score_title }}"><b>
{%- if score.value is none %}n/a{% else %}{{ "%.1f" | format(score.value) }}{% endif -%}
</b>posture score (of 100; {{ score.unknown }} unknown not counted)</div>
<div class="card"><b>{{ summary.open }}</b>open failing findings</div>
<div class="card"><b>{{ summary.waived_failing }}</b>waived (accepted risk)</div>
<div class="card"><b>{{ unknown_or_error }}</b>unknown or error</div>
<div class="card"><b>{{ snapshot.resource_count }}</b>resources</div>
<div class="card"><b>{{ summary.findings }}</b>findings judged</div>
</div>
<h3>Open failing findings by view and severity</h3>
<table id="counts">
<thead><tr><th>View</th>
{%- for severity in severities %}<th class="num">{{ severity }}</th>{% endfor -%}
<th class="num">total</th></tr></thead>
<tbody>
{%- for view in views %}
<tr><td><a href="#{{ view.id }}">{{ view.title }}</a></td>
{%- for severity in severities %}
<td class="num">{{ view.counts.get(severity, 0) }}</td>
{%- endfor %}
<td class="num"><b>{{ view.open }}</b></td></tr>
{%- endfor %}
</tbody>
</table>
<h3>Collector runs</h3>
{{ table("runs", tables.runs, with_search=false) }}
</section>

{%- for view in views %}

<section id="{{ view.id }}">
<h2>{{ view.title }}</h2>
<p class="meta">{{ view.total }} finding{{ "" if view.total == 1 else "s" }}:
{{ view.open }} open, {{ view.waived }} waived,
{{ view.unknown }} unknown or error, {{ view.passing }} passing.</p>
{{ table("view-" ~ view.id, tables["view-" ~ view.id], with_passing=true) }}
</section>
{%- endfor %}

<section id="checklist">
<h2>Governance checklist</h2>
<p class="meta">Each control's status comes from its evidencing checks (and a person's
attestation where no collector can see it). Waivers do not change a control.</p>
{{ table("controls", tables.controls) }}
</section>

{%- if attack_paths is not none %}

<section id="attack-paths">
<h2>Attack paths</h2>
<p class="meta">From each internet-facing endpoint to what its workloads' identities can
do, in the cluster and in the cloud; each hop with the evidence that makes it.</p>
{%- if not attack_paths %}
<p>No path from an internet-facing endpoint to a risky capability.</p>
{%- else %}
<ol class="paths">
{%- for path in attack_paths[:path_limit] %}
<li><details><summary><b>{{ path.capability }}</b> in {{ path.plane }}
{%- if path.conditional %} (conditional){% endif %}: {{ path.summary }}</summary>
<ol class="hops">
{%- for hop in path.hops %}
<li>{% if hop.relation %}<i>{{ hop.relation }}</i> {% endif %}{{ hop.kind }}
<b>{{ hop.name }}</b><br><span class="note">{{ hop.text }}</span></li>
{%- endfor %}
</ol></details></li>
{%- endfor %}
</ol>
{%- if attack_paths | length > path_limit %}
<p class="meta">&hellip;and {{ attack_paths | length - path_limit }} more paths
(see the JSON export).</p>
{%- endif %}
{%- endif %}
</section>
{%- endif %}

<section id="changes">
<h2>Changes</h2>
{%- if changes is none %}
<p class="meta">No previous snapshot to compare with.</p>
{%- else %}
<p class="meta">Since snapshot {{ changes.from }}: {{ changes.opened | length }} opened,
{{ changes.resolved | length }} resolved, {{ changes.changed | length }} changed.</p>
{%- for bucket in ("opened", "resolved", "changed") %}
<h3>{{ bucket | capitalize }} ({{ changes[bucket] | length }})</h3>
{{ table("changes-" ~ bucket, tables["changes-" ~ bucket]) }}
{%- endfor %}
{%- endif %}
</section>
</main>
<script type="application/json" id="posture-data">{{ data_json }}</script>
<script>{{ script }}</script>
</body>
</html>
"""

TABLE_MACRO = """{%- macro table(key, spec, with_search=true, with_passing=false) -%}
<div class="table-box" data-table="{{ key }}">
<div class="tools">
{%- if with_search %}
<input type="search" placeholder="Filter rows…" aria-label="Filter rows">
{%- else %}
<input type="search" hidden aria-hidden="true">
{%- endif %}
{%- if with_passing %}
<label><input type="checkbox" data-passing> show passing</label>
{%- endif %}
</div>
<table>
<thead><tr>
{%- for col in spec.columns %}
<th{% if col.get("type") in ("num", "pct") %} class="num"{% endif %}>{{ col.label }}</th>
{%- endfor -%}
</tr></thead>
<tbody>
{%- for row in spec.first_page %}
<tr>
{%- for col in spec.columns %}
{%- set value = row[col.i] %}
<td{% if col.get("type") in ("num", "pct") %} class="num"{% endif %}>
{%- if col.get("type") == "severity" -%}
<span class="badge sev-{{ value if value in severities else 'other' }}">{{ value }}</span>
{%- elif col.get("type") == "status" -%}
<span class="badge st-{{ value if value in statuses else 'other' }}">{{ value }}</span>
{%- elif col.get("type") == "fix" -%}
{{ "" if value is none else fixes[value] }}
{%- elif col.get("type") == "pct" -%}
{{ "&mdash;" | safe if value is none else ((value * 100) | round | int) ~ "%" }}
{%- else %}{{ "" if value is none else value }}{% endif %}
{%- if col.get("sub") is not none and row[col.sub] -%}
<div class="sub">{{ row[col.sub] }}</div>
{%- endif -%}
</td>
{%- endfor %}
</tr>
{%- endfor %}
</tbody>
</table>
<div class="pager"><button type="button" data-prev disabled>Previous</button>
<button type="button" data-next{% if spec.shown <= page_size %} disabled{% endif %}>Next</button>
<span data-info class="note">
{%- if spec.shown %}Rows 1&ndash;{{ spec.first_page | length }} of {{ spec.shown }}
{%- else %}No rows.{% endif -%}
</span></div>
</div>
{%- endmacro %}
"""

_STATUSES = {
    "fail",
    "pass",
    "unknown",
    "error",
    "ok",
    "partial",
    "failed",
    "complete",
    "absent",
    "unpolled",
}


@functools.cache
def _template():
    from jinja2 import Environment, StrictUndefined  # imported late: only HTML needs it

    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    return env.from_string(TABLE_MACRO.rstrip("\n") + TEMPLATE)


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: it can never close the element or start
    markup (``<``, ``>``, ``&``), and U+2028/U+2029 cannot end a JS line."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _text(value: str, limit: int = NAME_LIMIT) -> str:
    """Outside text for a cell: at most about ``limit`` characters, on one line, inert."""
    if len(value) <= limit and value.isprintable():
        return value  # the usual cell, which neither call below would change
    return one_line(shorten(value, limit))


def _finding_order(finding: dict[str, Any]) -> tuple:
    """Open failures first, then unknown/error, waived failures, passes; worst first."""
    status: float = _STATUS_ORDER.get(finding["status"], 4)
    if status == 0 and finding["waived"]:
        status = 2.5
    return (status, -SEVERITY_RANK.get(finding["severity"], -1))


def _finding_row(
    finding: dict[str, Any], resources: ResourceIndex, fixes: dict[str, int]
) -> list[Any]:
    waiver = finding.get("waiver") if finding["waived"] else None
    waiver_text = (
        f"{waiver['reason']} (owner {waiver['owner']}"
        + (f", expires {waiver['expires_at']}" if waiver.get("expires_at") else "")
        + ")"
        if waiver
        else ""
    )
    uid = finding["resource_uid"]
    name = resources.label(uid)
    # How to fix is for what fails (an unknown's fix is collection). Each text travels
    # once, in the data's "fixes"; a row holds its index (10 MB less at 100,000 rows).
    fix = finding.get("remediation", "") if finding["status"] == "fail" else ""
    fix_index = fixes.setdefault(_text(fix, TEXT_LIMIT), len(fixes)) if fix else None
    return [
        finding["severity"],
        finding["status"],
        _text(finding["check_id"]),
        _text(name),
        _text(uid) if uid != name else "",
        _text(finding["title"]),
        _text(finding["detail"], TEXT_LIMIT),
        _text(waiver_text, TEXT_LIMIT),
        finding["first_seen"],
        fix_index,
    ]


def _spec(columns, rows, status_index=None, hide_passing=False) -> dict[str, Any]:
    shown_rows = rows
    if hide_passing and status_index is not None:
        shown_rows = [row for row in rows if row[status_index] != "pass"]
    return {
        "columns": columns,
        "rows": rows,
        "status": status_index,
        "first_page": shown_rows[:PAGE_SIZE],
        "shown": len(shown_rows),
    }


def build_context(document: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows (and the script's data), from the document alone."""
    resources = ResourceIndex(document)
    summary = document.get("summary") or summarize(document["findings"])
    by_view: dict[str, list[dict[str, Any]]] = {view: [] for view in VIEWS}
    for finding in document["findings"]:
        by_view.setdefault(finding["view"], []).append(finding)
    tables: dict[str, dict[str, Any]] = {}
    fixes: dict[str, int] = {}  # remediation text -> its index in data["fixes"]
    views = []
    for view, findings in by_view.items():
        findings = sorted(findings, key=_finding_order)  # stable: document order within
        rows = [_finding_row(f, resources, fixes) for f in findings]
        tables[f"view-{view}"] = _spec(FINDING_COLUMNS, rows, status_index=1, hide_passing=True)
        failing_all = sum(1 for f in findings if f["status"] == "fail")
        views.append(
            {
                "id": view,
                "title": VIEW_TITLES.get(view, view),
                "counts": summary["open_by_view"].get(view, {}),
                "open": sum(summary["open_by_view"].get(view, {}).values()),
                "total": len(findings),
                "waived": failing_all - sum(summary["open_by_view"].get(view, {}).values()),
                "unknown": sum(1 for f in findings if f["status"] in ("unknown", "error")),
                "passing": sum(1 for f in findings if f["status"] == "pass"),
            }
        )
    tables["controls"] = _spec(CONTROL_COLUMNS, [_control_row(c) for c in document["controls"]])
    tables["runs"] = _spec(RUN_COLUMNS, [_run_row(r) for r in document["collector_runs"]])
    changes = document.get("changes")
    if changes is not None:
        for bucket in ("opened", "resolved", "changed"):
            tables[f"changes-{bucket}"] = _spec(
                CHANGE_COLUMNS, [_change_row(row, resources) for row in changes[bucket]]
            )
    snapshot = document["snapshot"]
    data = {
        "page_size": PAGE_SIZE,
        "fixes": list(fixes),
        "tables": {
            key: {"columns": spec["columns"], "rows": spec["rows"], "status": spec["status"]}
            for key, spec in tables.items()
        },
    }
    return {
        "csp": CSP,
        "css": CSS,
        "script": SCRIPT,
        "snapshot": snapshot,
        "generated_at": document["generated_at"],
        "tool_version": document["tool"]["version"],
        "summary": summary,
        "score": (score := document_score(document)),
        "score_title": "Posture score " + score_line(score),
        "views": views,
        "severities": SEVERITY_ORDER,
        "statuses": _STATUSES,
        "runs": document["collector_runs"],
        "unknown_or_error": summary["by_status"].get("unknown", 0)
        + summary["by_status"].get("error", 0),
        "troubled": [shorten(describe_run(run), TEXT_LIMIT) for run in runs_in_trouble(document)],
        "tables": tables,
        "changes": changes,
        "attack_paths": _paths(document.get("attack_paths")),
        "path_limit": PATH_LIMIT,
        "page_size": PAGE_SIZE,
        "fixes": list(fixes),
        "data_json": _markup(script_json(data)),
    }


PATH_LIMIT = 100


def _paths(paths: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Attack paths with each hop's evidence as one line (None: an older document)."""
    if paths is None:
        return None
    return [
        {
            "capability": path["capability"],
            "plane": path["plane"],
            "conditional": path.get("conditional", False),
            "summary": _text(path["summary"], TEXT_LIMIT),
            "hops": [
                {
                    "kind": KIND_LABELS.get(hop["kind"], hop["kind"]),
                    "name": _text(hop["name"]),
                    "relation": hop.get("relation"),
                    "text": _text(describe_hop(hop), TEXT_LIMIT),
                }
                for hop in path["hops"]
            ],
        }
        for path in paths
    ]


def _control_row(control: dict[str, Any]) -> list[Any]:
    frameworks = "; ".join(
        f"{name} {', '.join(refs)}" for name, refs in sorted(control["frameworks"].items())
    )
    evidence = []
    for check_id in control["checks"]:
        counts = control["evidence"].get(check_id) or {}
        told = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if n)
        evidence.append(f"{check_id}: {told or 'no findings'}")
    attestation = control.get("attestation")
    if attestation:
        attested = f"{attestation['by']} on {attestation['at']}"
        if attestation.get("expires_at"):
            attested += f", expires {attestation['expires_at']}"
        if attestation.get("note"):
            attested += f" ({attestation['note']})"
    else:
        attested = ""
    return [
        _text(control["title"]),
        _text(control["id"]),
        control["status"],
        control["coverage"],
        _text(frameworks, TEXT_LIMIT),
        _text("; ".join(evidence), TEXT_LIMIT),
        _text(attested, TEXT_LIMIT),
    ]


def _run_row(run: dict[str, Any]) -> list[Any]:
    problem = run_problem(run)
    return [
        _text(run["collector"]),
        _text(run["target"]),
        _text(run["scope"]),
        run["status"],
        run["items"],
        run["api_calls"],
        run["seconds"],
        _text(problem, TEXT_LIMIT),
    ]


def _change_row(row: dict[str, Any], resources: ResourceIndex) -> list[Any]:
    moved = ", ".join(row.get("fields") or [])
    if row.get("waived"):
        moved = f"{moved}; waived" if moved else "waived"
    return [
        row["severity"],
        row["previous_status"],
        row["status"],
        _text(row["check_id"]),
        _text(name := resources.label(row["resource_uid"])),
        _text(row["title"]),
        moved,
        _text(row["resource_uid"]) if row["resource_uid"] != name else "",
    ]


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # noqa: S704 - script_json has escaped every markup character


@bulk
def render_html(document: dict[str, Any]) -> str:
    return "".join(_template().generate(**_context_with_markup(document)))


def _context_with_markup(document: dict[str, Any]) -> dict[str, Any]:
    context = build_context(document)
    from markupsafe import Markup

    # The CSS and script are ours, constant, and must be emitted byte for byte (the CSP
    # pins the script's hash); the rest of the context is escaped by autoescape.
    context["csp"] = Markup(context["csp"])  # noqa: S704
    context["css"] = Markup(context["css"])  # noqa: S704
    context["script"] = Markup(context["script"])  # noqa: S704
    return context


@bulk
def write_html(document: dict[str, Any], out: IO[str]) -> None:
    for chunk in _template().generate(**_context_with_markup(document)):
        out.write(chunk)
