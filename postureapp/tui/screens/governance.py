"""Governance: the checklist of controls with status, coverage, evidence and
attestations, or a framework's requirements (ISO 27001:2022, SOC 2, CIS, AWS FSBP);
enter lists the failing findings behind a row, ``a`` records an attestation. Below a
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
from postureapp.store.frameworks import (
    Requirement,
    frameworks,
    requirements,
)
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
        Column("status", "STATUS", 9, lambda r: fmt.status_badge(r["status"])),
        Column("id", "CONTROL", 0, lambda r: fmt.safe(r["id"], "bold"), min=12, max=30, grow=1),
        Column("title", "TITLE", 0, lambda r: fmt.safe(r["title"]), min=20, comfort=36, grow=0),
        Column("coverage", "COVERAGE", 13, lambda r: fmt.coverage_bar(r["coverage"])),
        Column("evidence", "FINDINGS", 16, lambda r: fmt.evidence_counts(r["counts"])),
        Column(
            "attested",
            "ATTESTED",
            16,
            lambda r: _attested(r, app.clock()),
            optional=True,
            drop=1,
        ),
    ]


def requirement_columns(app: Any) -> list[Column]:
    return [
        Column("status", "STATUS", 9, lambda r: fmt.status_badge(r["status"])),
        Column("id", "REQUIREMENT", 0, lambda r: fmt.safe(r["id"], "bold"), min=11, max=24, grow=0),
        Column("coverage", "COVERAGE", 13, lambda r: fmt.coverage_bar(r["coverage"])),
        Column("evidence", "FINDINGS", 16, lambda r: fmt.evidence_counts(r["counts"])),
        Column(
            "controls",
            "CONTROLS",
            0,
            lambda r: fmt.safe(r["controls"], "dim"),
            min=16,
            comfort=60,
            grow=1,
        ),
        Column("checks", "CHECKS", 6, lambda r: Text(str(r["checks"])), "right"),
    ]


def control_text(control: Control, now: Any) -> Text:
    out = Text()
    out.append_text(fmt.status_badge(control.status.value))
    out.append("  ")
    out.append_text(fmt.safe(f"{control.id} — {control.title}", "bold"))
    out.append("   ")
    out.append_text(fmt.coverage_bar(control.coverage))
    out.append("   enter lists its failing findings", "dim")
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


def requirement_text(item: Requirement, now: Any) -> Text:
    """What evidences one requirement: its controls (with their status) and the checks
    that cite it themselves."""
    out = Text()
    out.append_text(fmt.status_badge(item.status))
    out.append("  ")
    out.append_text(fmt.safe(f"{item.framework} {item.id}", "bold"))
    out.append("   ")
    out.append_text(fmt.coverage_bar(item.coverage))
    out.append("   ")
    out.append_text(fmt.evidence_counts(item.counts))
    out.append("\n\nControls    ", "bold")
    if not item.controls:
        out.append("none cites it", "dim")
    for control in item.controls:
        out.append("\n  ")
        out.append_text(fmt.status_badge(control.status.value))
        out.append("  ")
        out.append_text(fmt.safe(control.id, "bold"))
        out.append("  ")
        out.append_text(fmt.safe(control.title, "dim"))
    out.append("\nChecks      ", "bold")
    if not item.direct:
        out.append("none cites it directly", "dim")
    for check_id in item.direct:
        out.append("\n  ")
        out.append_text(fmt.safe(check_id))
    out.append("\n\nenter lists the failing findings of its ", "dim")
    out.append(f"{len(item.checks)} checks", "dim")
    return out


def _counts(control: Control) -> dict[str, int]:
    totals: dict[str, int] = {}
    for by_status in control.evidence.values():
        for status, number in by_status.items():
            totals[status] = totals.get(status, 0) + number
    return totals


class GovernanceScreen(DashboardScreen):
    """Controls, or one framework's requirements (``f`` cycles; ``:iso``, ``:soc2``,
    ``:cis`` go straight there); enter lists the failing findings behind a row."""

    VIEW: ClassVar[str] = "governance"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("governance",)
    BINDINGS: ClassVar[list[BindingType]] = bindings("governance")
    MAIN: ClassVar[str] = "#controls"

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[Control] = []
        self.framework: str | None = None  # None: by control
        self.requirements: list[Requirement] = []
        self._trust: tuple[int | None, Text] | None = None

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield VirtualTable(
            control_columns(self.app), empty="no controls in the catalog", id="controls"
        )
        with VerticalScroll(id="control-detail", classes="panel"):
            yield Static(id="control-body")
            yield Static(id="trust-body")

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#controls", VirtualTable)

    def refresh_data(self) -> None:
        app = self.posture
        controls = app.queries.controls(app.registry.controls.values())
        controls.sort(key=lambda c: (ORDER.get(c.status.value, 9), c.id))
        self.controls = controls
        if self.framework is None:
            rows: list[dict[str, Any]] = [
                {
                    "id": c.id,
                    "title": c.title,
                    "status": c.status.value,
                    "coverage": c.coverage,
                    "counts": _counts(c),
                    "frameworks": _frameworks(c),
                    "control": c,
                }
                for c in controls
            ]
            statuses = [c.status.value for c in controls]
            noun = f"{len(controls)} controls"
        else:
            self.requirements = requirements(
                self.framework,
                controls,
                app.registry.checks.values(),
                app.queries.check_counts(),
                app.queries.critical_counts(),
            )
            rows = [
                {
                    "id": item.label,
                    "status": item.status,
                    "coverage": item.coverage,
                    "counts": item.counts,
                    "controls": ", ".join(c.id for c in item.controls) or "-",
                    "checks": len(item.checks),
                    "requirement": item,
                }
                for item in self.requirements
            ]
            statuses = [item.status for item in self.requirements]
            noun = f"{len(rows)} requirements"
        table = self.table
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
        bar.append_text(fmt.safe(f"  {self.framework or 'by control'}", "bold"))
        bar.append(f" · {noun}")
        for status in ("fail", "partial", "unknown", "pass"):
            bar.append(" · ")
            bar.append_text(fmt.status_badge(status))
            bar.append(f" {statuses.count(status)}")
        self.query_one("#tablebar", TextBar).show(bar)
        self._show(table.current_row)
        self._show_trust()

    def _show_trust(self) -> None:
        """Read once per snapshot: a handful of small resources, by kind."""
        trust = self.query_one("#trust-body", Static)
        trust.display = self.framework is None
        if self.framework is not None:
            return
        queries = self.posture.queries
        snapshot_id = queries.snapshot.id if queries.snapshot else None
        if self._trust is None or self._trust[0] != snapshot_id:
            domains = (
                [] if snapshot_id is None else trust_domains_of_snapshot(queries.store, snapshot_id)
            )
            self._trust = (snapshot_id, trust_text(domains))
        trust.update(Text("\n").join([Text(""), self._trust[1]]))

    @on(VirtualTable.Highlighted, "#controls")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show(event.row)

    def _show(self, row: dict[str, Any] | None) -> None:
        body = self.query_one("#control-body", Static)
        if row is None:
            body.update(Text("nothing selected", "dim"))
        elif "requirement" in row:
            body.update(requirement_text(row["requirement"], self.posture.clock()))
        elif "control" in row:
            body.update(control_text(row["control"], self.posture.clock()))

    # -- by framework --------------------------------------------------------------------

    def show_framework(self, framework: str | None) -> None:
        """Show one framework's requirements, or the controls (``None``)."""
        if framework == self.framework:
            return
        self.framework = framework
        columns = control_columns if framework is None else requirement_columns
        self.table.set_columns(columns(self.app))
        self.table.cursor = 0
        self.refresh_data()

    def action_next_framework(self) -> None:
        app = self.posture
        offered = frameworks(app.registry.controls.values(), app.registry.checks.values())
        cycle: list[str | None] = [None, *offered]
        position = cycle.index(self.framework) if self.framework in cycle else 0
        self.show_framework(cycle[(position + 1) % len(cycle)])

    def action_details(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        if "requirement" in row:
            item: Requirement = row["requirement"]
            self.posture.show_evidence(f"{item.framework} {item.id}", item.checks)
        else:
            control: Control = row["control"]
            self.posture.show_evidence(f"CONTROL {control.id}", control.checks)

    def apply_request(
        self, filter_text: str | None = None, focus_fid: Any = None, **options: Any
    ) -> None:
        """Sent here for a framework (``:iso``), or for a governance finding: highlight
        a control it evidences."""
        if "framework" in options:
            self.show_framework(options["framework"])
        if focus_fid is None:
            return
        row = self.posture.queries.row(focus_fid)
        if row is None:
            return
        self.show_framework(None)
        for index, control in enumerate(self.controls):
            if row["check_id"] in control.checks:
                self.table.cursor = index
                return

    def action_attest(self) -> None:
        row = self.table.current_row
        if row is None or "control" not in row:
            self.notify("Attestations are for controls: f back to the controls.")
            return

        def saved(attestation: Any) -> None:
            if attestation is not None:
                self.posture.save_attestation(attestation)

        self.app.push_screen(
            AttestationForm(row["id"], row["title"], self.posture.user, self.posture.clock()),
            saved,
        )
