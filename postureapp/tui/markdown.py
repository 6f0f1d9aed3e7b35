"""A finding as Markdown, for an incident ticket.

Values from outside go into code spans (with a fence longer than any run of backticks
they hold) after control characters are made visible, so a hostile name cannot inject
links, HTML or formatting into the ticket. Prose (detail, remediation, triage notes)
keeps its own code spans as written, so ``aws iam delete-login-profile`` in backticks
reads as a command, and has everything outside them escaped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from postureapp.export.markdown import keep_code_spans
from postureapp.tui.text import clean, short_time


def code(value: object) -> str:
    text = clean(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def _escape(text: str) -> str:
    return _ACTIVE.sub(r"\\\1", text)


def _plain(value: object) -> str:
    """Outside text (a title): escape Markdown's active characters."""
    return _escape(clean(value))


def _prose(value: object) -> str:
    """A paragraph (detail, remediation, note): line breaks become spaces, code spans
    stay as written (a command reads as one), everything else is escaped."""
    text = re.sub(r"[ \t]*\r?\n\s*", " ", "" if value is None else str(value).strip())
    return keep_code_spans(clean(text), _escape)


def finding_markdown(finding: dict[str, Any], now: datetime) -> str:
    resource = finding.get("resource") or {}
    check = finding.get("check") or {}
    lines = [
        f"### [{finding['severity'].upper()}] {_plain(finding['title'])}",
        "",
        "| | |",
        "|---|---|",
        f"| Status | {finding['status']} |",
        f"| Check | {code(finding['check_id'])} |",
        f"| Resource | {code(finding['resource_uid'])} |",
    ]
    if resource:
        lines.append(f"| Kind / name | {code(resource['kind'])} {code(resource['name'])} |")
        if resource.get("namespace"):
            lines.append(f"| Namespace | {code(resource['namespace'])} |")
        lines.append(f"| Scope | {code(resource['scope'])} ({resource['provider']}) |")
    lines += [
        f"| First seen | {short_time(finding['first_seen'])} UTC |",
        f"| Fingerprint | {code(finding['fingerprint'])} |",
    ]
    waiver = finding.get("waiver")
    if waiver:
        item = waiver["waiver"]
        state = "expired waiver" if waiver["expired"] else "waived"
        lines.append(
            f"| Waiver | {state}: {code(item.reason)} by {code(item.owner)}"
            f" until {short_time(item.expires_at)} |"
        )
    if finding.get("detail"):
        lines += ["", "**Detail**", "", _prose(finding["detail"])]
    if finding.get("evidence"):
        body = json.dumps(finding["evidence"], indent=2, sort_keys=True, ensure_ascii=False)
        body = "\n".join(clean(line) for line in body.split("\n"))
        fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
        lines += ["", "**Evidence**", "", f"{fence}json", body, fence]
    if check.get("remediation"):
        lines += ["", "**Remediation**", "", _prose(check["remediation"])]
    notes = finding.get("notes") or []
    if notes:
        lines += ["", "**Notes**", ""]
        for note in notes:
            when = short_time(note["created_at"])
            lines.append(f"- {code(note['author'])}, {when} UTC: {_prose(note['text'])}")
    frameworks = check.get("frameworks") or {}
    if frameworks:
        refs = "; ".join(
            f"{name} {', '.join(map(str, ids))}" for name, ids in sorted(frameworks.items())
        )
        lines += ["", f"**Frameworks:** {_plain(refs)}"]
    lines += ["", f"_Exported by posture on {short_time(now.isoformat())} UTC._"]
    return "\n".join(lines) + "\n"
