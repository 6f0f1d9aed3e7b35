"""Governance: the checklist of controls with status, coverage, evidence, frameworks and
attestations; ``a`` records an attestation for the highlighted control. Below the
control's detail, the trust domains seen in the snapshot and their identity providers."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from postureapp.governance import TrustDomain, trust_domains_of_snapshot
from postureapp.model import Control
from postureapp.store.views import ListRows
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.screens.modals import AttestationForm
from postureapp.tui.widgets.bar import TextBar
from postureapp.tui.widgets.vtable import Column, VirtualTable

ORDER = {"fail": 0, "partial": 1, "unknown": 2, "pass": 3}


def _frameworks(control: Control) -> str:
    return "; ".join(f"{name} {', '.join(ids)}" for name, ids in sorted(control.frameworks.items()))


def _attested(row: dict[str, Any], now: Any) -> Text:
    attestation = row["control"].attestation
    if attestation is None:
        return Text("needed" if row["control"].needs_attestation else "", "yellow")
    if not attestation.is_active(now):
        return Text("expired", "bold red")
    return fmt.safe(f"{attestation.by} {fmt.short_time(attestation.at)[:10]}", "green")


def control_columns(app: Any) -> list[Column]:
    return [
        Column("status", "STATUS", 8, lambda r: fmt.status(r["status"])),
        Column("id", "CONTROL", 24, lambda r: fmt.safe(r["id"], "bold")),
        Column("title", "TITLE", 0, lambda r: fmt.safe(r["title"])),
        Column(
            "coverage",
            "COVERAGE",
            8,
            lambda r: Text("—" if r["coverage"] is None else f"{r['coverage']:.0%}"),
            "right",
        ),
        Column("frameworks", "FRAMEWORKS", 0, lambda r: fmt.safe(r["frameworks"], "dim")),
        Column("attested", "ATTESTED", 20, lambda r: _attested(r, app.clock())),
    ]


def control_text(control: Control, now: Any) -> Text:
    out = Text()
    out.append_text(fmt.status(control.status.value))
    out.append("  ")
    out.append_text(fmt.safe(f"{control.id} — {control.title}", "bold"))
    if control.description:
        out.append("\n")
        out.append_text(fmt.multiline(control.description, "dim"))
    out.append("\n\nFrameworks  ", "bold")
    out.append_text(fmt.safe(_frameworks(control) or "none"))
    out.append("\nEvidence    ", "bold")
    if not control.evidence:
        out.append("no checks evidence this control", "dim")
    for check_id, counts in control.evidence.items():
        out.append("\n  ")
        out.append_text(fmt.safe(check_id))
        if not counts:
            out.append("  no findings (not evaluated)", "magenta")
        for status in ("fail", "pass", "unknown", "error"):
            if counts.get(status):
                out.append("  ")
                out.append_text(fmt.status(status))
                out.append(f" {counts[status]:,}")
    out.append("\nAttestation ", "bold")
    attestation = control.attestation
    if attestation is None:
        out.append("required, none recorded (a)" if control.needs_attestation else "none", "dim")
    else:
        state = "active" if attestation.is_active(now) else "EXPIRED"
        out.append_text(fmt.safe(f"{attestation.by} on {fmt.short_time(attestation.at)} UTC"))
        out.append(f" · {state}", "green" if state == "active" else "bold red")
        if attestation.expires_at:
            out.append(f" · expires {fmt.short_time(attestation.expires_at)} UTC")
        if attestation.note:
            out.append("\n  ")
            out.append_text(fmt.multiline(attestation.note))
    return out


def trust_text(domains: list[TrustDomain]) -> Text:
    """The trust-domain section; every name comes from the estate, so all of it is data."""
    out = Text()
    out.append("Trust domains", "bold")
    out.append(f"  {len(domains)} seen in this snapshot", "dim")
    if not domains:
        out.append("\n  none: no cluster, account or mesh was collected", "dim")
    for domain in domains:
        out.append("\n  ")
        out.append_text(fmt.safe(domain.kind, "cyan"))
        out.append("  ")
        out.append_text(fmt.safe(domain.name, "bold"))
        for provider in domain.providers:
            out.append("\n      backed by ", "dim")
            out.append_text(fmt.safe(provider))
        for note in domain.notes:
            out.append("\n      ")
            out.append_text(fmt.safe(note, "dim"))
    return out


class GovernanceScreen(DashboardScreen):
    VIEW: ClassVar[str] = "governance"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("governance",)
    BINDINGS: ClassVar[list[BindingType]] = bindings("governance")

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[Control] = []
        self._trust: tuple[int | None, Text] | None = None

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield VirtualTable(
            control_columns(self.app), empty="no controls in the catalog", id="controls"
        )
        with VerticalScroll(id="control-detail", classes="panel"):
            yield Static(id="control-body")
            yield Static(id="trust-body")

    def on_mount(self) -> None:
        self.query_one("#controls", VirtualTable).focus()
        super().on_mount()

    def refresh_data(self) -> None:
        app = self.posture
        controls = app.queries.controls(app.registry.controls.values())
        controls.sort(key=lambda c: (ORDER.get(c.status.value, 9), c.id))
        self.controls = controls
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "status": c.status.value,
                "coverage": c.coverage,
                "frameworks": _frameworks(c),
                "control": c,
            }
            for c in controls
        ]
        table = self.query_one("#controls", VirtualTable)
        current = table.current_row
        keep = current["id"] if current else None
        table.set_source(
            ListRows(rows, app.data_generation),
            keep=lambda source: next(
                (i for i, row in enumerate(source.rows) if row["id"] == keep), None
            ),
        )
        bar = Text()
        bar.append(" GOVERNANCE ", "bold reverse")
        bar.append(f"  {len(controls)} controls", "bold")
        for status in ("pass", "partial", "fail", "unknown"):
            number = sum(1 for c in controls if c.status.value == status)
            bar.append(" · ")
            bar.append_text(fmt.status(status))
            bar.append(f" {number}")
        bar.append(" · waivers do not change a control", "dim")
        self.query_one("#tablebar", TextBar).show(bar)
        self._show(table.current_row)
        self._show_trust()

    def _show_trust(self) -> None:
        """Read once per snapshot: a handful of small resources, by kind."""
        queries = self.posture.queries
        snapshot_id = queries.snapshot.id if queries.snapshot else None
        if self._trust is None or self._trust[0] != snapshot_id:
            domains = (
                [] if snapshot_id is None else trust_domains_of_snapshot(queries.store, snapshot_id)
            )
            self._trust = (snapshot_id, trust_text(domains))
        self.query_one("#trust-body", Static).update(Text("\n").join([Text(""), self._trust[1]]))

    @on(VirtualTable.Highlighted, "#controls")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show(event.row)

    def _show(self, row: dict[str, Any] | None) -> None:
        body = self.query_one("#control-body", Static)
        if row is None:
            body.update(Text("no control selected", "dim"))
            return
        body.update(control_text(row["control"], self.posture.clock()))

    def apply_request(self, filter_text: str | None = None, focus_fid: Any = None) -> None:
        """Sent here for a governance finding: highlight a control it evidences."""
        if focus_fid is None:
            return
        row = self.posture.queries.row(focus_fid)
        if row is None:
            return
        for index, control in enumerate(self.controls):
            if row["check_id"] in control.checks:
                self.query_one("#controls", VirtualTable).cursor = index
                return

    def action_attest(self) -> None:
        row = self.query_one("#controls", VirtualTable).current_row
        if row is None:
            return

        def saved(attestation: Any) -> None:
            if attestation is not None:
                self.posture.save_attestation(attestation)

        self.app.push_screen(
            AttestationForm(row["id"], row["title"], self.posture.user, self.posture.clock()),
            saved,
        )
