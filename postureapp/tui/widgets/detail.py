"""The detail pane of a finding: evidence, remediation, frameworks, waiver, history,
notes, and the resources related to it (selectable, to jump there)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from postureapp.tui import text as fmt


def _heading(title: str) -> Text:
    heading = Text("\n\n")
    heading.append(title, "bold underline")
    heading.append("\n")
    return heading


def finding_text(finding: dict[str, Any], now: datetime) -> Text:
    """The body of the pane, as one Text built from data (never markup)."""
    out = Text()
    out.append_text(fmt.severity(finding["severity"]))
    out.append(" ")
    out.append_text(fmt.status(finding["status"]))
    out.append("  ")
    out.append_text(fmt.safe(finding["title"], "bold"))
    out.append("  ")
    out.append_text(fmt.safe(finding["check_id"], "dim"))
    waiver = finding.get("waiver")
    if waiver:
        item = waiver["waiver"]
        out.append("\n")
        if waiver["expired"]:
            out.append(" WAIVER EXPIRED ", "bold black on yellow")
        else:
            out.append(" WAIVED ", "bold black on cyan")
        out.append(" ")
        out.append_text(fmt.safe(f"{item.reason} — {item.owner}"))
        if item.ticket:
            out.append_text(fmt.safe(f" ({item.ticket})", "dim"))
        out.append(f" until {fmt.short_time(item.expires_at)}" if item.expires_at else " no expiry")
    resource = finding.get("resource")
    out.append_text(_heading("Resource"))
    if resource and resource.get("stale"):
        out.append(f"not seen in this snapshot; last seen in #{resource['valid_from']}\n", "yellow")
    if resource:
        out.append_text(fmt.safe(f"{resource['kind']} {resource['name']}", "bold"))
        where = resource["namespace"] or ""
        out.append_text(fmt.safe(f"  ns {where}" if where else "", "dim"))
        out.append_text(fmt.safe(f"  scope {resource['scope']}  ({resource['provider']})", "dim"))
        out.append("\n")
    out.append_text(fmt.safe(finding["resource_uid"], "dim"))
    out.append(
        f"\nfirst seen {fmt.short_time(finding['first_seen'])} UTC "
        f"({fmt.age(finding['first_seen'], now)} ago)"
    )
    if resource and resource.get("created_at"):
        out.append(f" · created {fmt.short_time(resource['created_at'])} UTC")
    if finding.get("detail"):
        out.append_text(_heading("Detail"))
        out.append_text(fmt.multiline(finding["detail"]))
    if finding.get("evidence"):
        out.append_text(_heading("Evidence"))
        body = json.dumps(finding["evidence"], indent=2, sort_keys=True, ensure_ascii=False)
        out.append_text(fmt.multiline(body))
    check = finding.get("check") or {}
    out.append_text(_heading("Remediation"))
    out.append_text(fmt.multiline(check.get("remediation") or "no remediation recorded"))
    frameworks = check.get("frameworks") or {}
    if frameworks:
        out.append_text(_heading("Frameworks"))
        out.append_text(
            Text("\n").join(
                fmt.safe(f"{name}: {', '.join(map(str, refs))}")
                for name, refs in sorted(frameworks.items())
            )
        )
    for reference in check.get("references") or []:
        out.append("\n")
        out.append_text(fmt.safe(f"see {reference}", "dim"))
    history = finding.get("history") or []
    if history:
        out.append_text(_heading("History"))
        for version in history:
            until = f" to #{version['valid_to']}" if version["valid_to"] else " to now"
            out.append(f"#{version['valid_from']}{until}  {fmt.short_time(version['seen_at'])}  ")
            out.append_text(fmt.status(version["status"]))
            out.append(" ")
            out.append_text(fmt.severity(version["severity"]))
            if version["waiver_id"]:
                out.append(" waived", "cyan")
            out.append("\n")
    notes = finding.get("notes") or []
    out.append_text(_heading(f"Notes ({len(notes)})"))
    if not notes:
        out.append("none yet — press n to add one", "dim")
    for note in notes:
        out.append_text(fmt.safe(f"{fmt.short_time(note['created_at'])} {note['author']}: ", "dim"))
        out.append_text(fmt.multiline(note["text"]))
        out.append("\n")
    return out


class FindingDetail(VerticalScroll):
    """Shows one finding; the related list posts :class:`FindingDetail.Jump`."""

    class Jump(Message):
        """Go to a related resource (``uid``) or a sibling finding (``fid``)."""

        def __init__(self, uid: str, fid: int | None = None) -> None:
            super().__init__()
            self.uid = uid
            self.fid = fid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.finding: dict[str, Any] | None = None
        self._targets: dict[str, tuple[str, int | None]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")
        yield Label(Text("Related (o to focus, enter to jump)", "bold underline"))
        yield OptionList(id="related")

    def show(self, finding: dict[str, Any] | None, now: datetime) -> None:
        self.finding = finding
        body = self.query_one("#detail-body", Static)
        related = self.query_one("#related", OptionList)
        related.clear_options()
        self._targets = {}
        if finding is None:
            body.update(Text("no finding selected", "dim italic"))
            return
        body.update(finding_text(finding, now))
        options = []
        for number, sibling in enumerate(finding.get("siblings") or []):
            key = f"s{number}"
            self._targets[key] = (finding["resource_uid"], sibling["fid"])
            prompt = Text.assemble("same resource: ", fmt.severity(sibling["severity"]), " ")
            prompt.append_text(fmt.status(sibling["status"]))
            prompt.append(" ")
            prompt.append_text(fmt.safe(sibling["title"]))
            options.append(Option(prompt, id=key))
        for number, item in enumerate(finding.get("related") or []):
            key = f"r{number}"
            self._targets[key] = (item["uid"], None)
            prompt = fmt.safe(f"{item['kind']} {item['name']}")
            if item["failing"]:
                prompt.append(f"  {item['failing']} failing", "red")
            else:
                prompt.append("  no failing findings", "dim")
            options.append(Option(prompt, id=key))
        if not options:
            options.append(Option(Text("no related resources found", "dim"), disabled=True))
        related.add_options(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        target = self._targets.get(event.option.id or "")
        if target is not None:
            self.post_message(self.Jump(*target))
