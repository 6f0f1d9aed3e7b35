"""Markdown for an incident ticket or a pull-request comment: a summary line, collection
health, the top open findings (worst first, capped) and what changed since the previous
snapshot.

Outside text goes through :func:`md_text`: ``&``, ``<`` and ``>`` become entities (no raw
HTML, no ``<http://...>`` autolinks), Markdown punctuation is backslash-escaped (no links,
images, emphasis, code spans or math, and ``|`` cannot split a table cell), line breaks
become spaces and control characters are spelled out. A bare ``https://host.tld`` in a
name may still be auto-linked by GitHub; the link text is then the URL itself, so it
cannot pose as something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, Any

from postureapp.export.common import (
    SEVERITY_ORDER,
    ResourceIndex,
    failing,
    one_line,
    run_problem,
)
from postureapp.export.snapshot_json import document_score, score_line, summarize
from postureapp.graph.model import KIND_LABELS, describe_hop

TOP_FINDINGS = 50
TOP_CHANGES = 50
TOP_PATHS = 20
CELL_LIMIT = 200

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


def md_text(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """Outside text made inert for Markdown (and one line, at most ``limit`` chars)."""
    text = one_line(str(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


# A code span: a run of backticks, then the shortest text up to a run of the same length
# (CommonMark); the runs may not touch other backticks.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)")


def keep_code_spans(text: str, escape: Callable[[str], str]) -> str:
    r"""``text`` with its code spans kept as written and everything else through
    ``escape``: a command in backticks reads as a command, not ``\`aws\-iam\```.

    Safe with outside text: Markdown shows a code span's content literally (no links,
    HTML or emphasis), and what is outside the spans is escaped, including any stray
    backtick, so a name cannot open or close a span. Not for table cells (GFM splits
    a cell at ``|`` even inside a code span)."""
    out: list[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(escape(text[position : match.start()]))
        out.append(match.group())
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


def md_prose(text: Any) -> str:
    """Outside prose on one line, inert except for its code spans (see keep_code_spans)."""
    return keep_code_spans(one_line(str(text)), lambda part: md_text(part, None))


def _table(
    headers: list[str], rows: list[list[str]], right: set[int] | frozenset[int] = frozenset()
) -> str:
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _counts(by_severity: dict[str, int]) -> str:
    parts = [f"{by_severity[s]} {s}" for s in SEVERITY_ORDER if by_severity.get(s)]
    return ", ".join(parts) if parts else "none"


def render_markdown(document: dict[str, Any]) -> str:
    snapshot = document["snapshot"]
    summary = document.get("summary") or summarize(document["findings"])
    status = snapshot["status"]
    out: list[str] = []
    badge = "" if status == "complete" else f" — {status.upper()}"
    out.append(f"## Posture snapshot {snapshot['id']}{badge}")
    out.append("")
    out.append(
        f"**{summary['open']} open failing findings** ({_counts(summary['open_by_severity'])})"
        f" · {summary['waived_failing']} waived · {snapshot['resource_count']} resources"
        f" · {summary['findings']} findings judged · snapshot {status},"
        f" finished {snapshot['finished_at'] or 'never'}"
    )
    out.append("")
    out.append(f"**Posture score:** {score_line(document_score(document))}")
    out.append("")
    out += _health(document)
    out += _top_findings(document)
    out += _attack_paths(document)
    out += _changes(document)
    return "\n".join(out).rstrip("\n") + "\n"


def write_markdown(document: dict[str, Any], out: IO[str]) -> None:
    out.write(render_markdown(document))


def _health(document: dict[str, Any]) -> list[str]:
    runs = document["collector_runs"]
    out = ["### Collection health", ""]
    troubled = [run for run in runs if run["status"] != "ok"]
    if document["snapshot"]["status"] != "complete":
        out.append(
            f"> **Warning:** this snapshot is {document['snapshot']['status']}:"
            f" {len(troubled)} of {len(runs)} collector runs did not finish cleanly."
            " Findings in what they could not read are unknown, not passing."
        )
        out.append("")
    if not runs:
        out += ["No collector runs were recorded.", ""]
        return out
    rows = []
    for run in runs:
        problem = run_problem(run)
        rows.append(
            [
                md_text(run["collector"]),
                md_text(run["target"]),
                run["status"] if run["status"] == "ok" else f"**{run['status']}**",
                str(run["items"]),
                str(run["api_calls"]),
                f"{run['seconds']:.1f}",
                md_text(problem),
            ]
        )
    out.append(
        _table(
            ["Collector", "Target", "Status", "Items", "API calls", "Seconds", "Problem"],
            rows,
            right={3, 4, 5},
        )
    )
    out.append("")
    return out


def _top_findings(document: dict[str, Any]) -> list[str]:
    open_findings = [f for f in failing(document) if not f["waived"]]
    open_findings.sort(key=lambda f: SEVERITY_ORDER.index(f["severity"]))  # stable: keeps order
    out = ["### Top open findings", ""]
    if not open_findings:
        out += ["No open failing findings.", ""]
        return out
    resources = ResourceIndex(document)
    shown = open_findings[:TOP_FINDINGS]
    rows = [
        [
            f"**{f['severity']}**" if f["severity"] in ("critical", "high") else f["severity"],
            md_text(f["check_id"]),
            md_text(resources.label(f["resource_uid"])),
            md_text(f["title"] + (f": {f['detail']}" if f["detail"] else "")),
        ]
        for f in shown
    ]
    out.append(_table(["Severity", "Check", "Resource", "Finding"], rows))
    hidden = len(open_findings) - TOP_FINDINGS
    if hidden > 0:
        out += ["", f"…and {hidden} more open failing findings (see the CSV or HTML export)."]
    out.append("")
    return out + _remediation(shown)


def _remediation(findings: list[dict[str, Any]]) -> list[str]:
    """How to fix each check among ``findings``, once per check, worst first."""
    fixes: dict[str, str] = {}
    for finding in findings:
        if finding.get("remediation") and finding["check_id"] not in fixes:
            fixes[finding["check_id"]] = finding["remediation"]
    if not fixes:
        return []
    out = ["### Remediation", ""]
    out += [f"- **{md_text(check_id)}**: {md_prose(text)}" for check_id, text in fixes.items()]
    out.append("")
    return out


def _changes(document: dict[str, Any]) -> list[str]:
    changes = document.get("changes")
    out = []
    if changes is None:
        return ["### Changes", "", "No previous snapshot to compare with.", ""]
    out += [f"### Changes since snapshot {changes['from']}", ""]
    opened, resolved, changed = changes["opened"], changes["resolved"], changes["changed"]
    out += [
        f"Opened: **{len(opened)}** · resolved: **{len(resolved)}** · changed: **{len(changed)}**",
        "",
    ]
    resources = ResourceIndex(document)
    rows = []
    for label, bucket in (("opened", opened), ("changed", changed), ("resolved", resolved)):
        for row in bucket:
            what = f"{row['previous_status']} → {row['status']}"
            if row.get("fields"):
                what += f" ({', '.join(row['fields'])})"
            rows.append(
                [
                    label,
                    row["severity"],
                    md_text(row["check_id"]),
                    md_text(resources.label(row["resource_uid"])),
                    md_text(row["title"]),
                    md_text(what),
                ]
            )
    if rows:
        out.append(
            _table(
                ["Change", "Severity", "Check", "Resource", "Finding", "Status"], rows[:TOP_CHANGES]
            )
        )
        if len(rows) > TOP_CHANGES:
            out += ["", f"…and {len(rows) - TOP_CHANGES} more changes (see `posture diff`)."]
        out.append("")
    return out


def _attack_paths(document: dict[str, Any]) -> list[str]:
    """Each path as a numbered item, one indented line per hop with its evidence."""
    paths = document.get("attack_paths")
    if paths is None:  # a document from before issue 9
        return []
    out = ["### Attack paths", ""]
    if not paths:
        return [*out, "No path from an internet-facing endpoint to a risky capability.", ""]
    for number, path in enumerate(paths[:TOP_PATHS], 1):
        flag = " (conditional)" if path.get("conditional") else ""
        out.append(
            f"{number}. **{md_text(path['capability'])}** in {md_text(path['plane'])}{flag}: "
            + " → ".join(md_text(hop["name"], 80) for hop in path["hops"])
        )
        for hop in path["hops"]:
            kind = KIND_LABELS.get(hop["kind"], hop["kind"])
            relation = f"{hop['relation']} " if hop.get("relation") else ""
            out.append(
                f"    - {md_text(relation)}{md_text(kind)} **{md_text(hop['name'], 80)}**"
                f": {md_text(describe_hop(hop), 300)}"
            )
    if len(paths) > TOP_PATHS:
        out += ["", f"…and {len(paths) - TOP_PATHS} more paths (see the JSON export)."]
    out.append("")
    return out
