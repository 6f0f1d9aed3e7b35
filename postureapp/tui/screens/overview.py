"""Overview: the posture score, its trend, what changed, counts by view and severity,
collector health, and the worst open findings (enter jumps to one)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid, Vertical
from textual.widgets import Sparkline, Static

from postureapp.model import RunStatus, View
from postureapp.store.views import ListRows, Overview
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.screens.findings import _where, open_cause
from postureapp.tui.widgets.vtable import Column, VirtualTable

SEVERITIES = ("critical", "high", "medium", "low", "info")
SHORT = {"critical": "crit", "high": "high", "medium": "med", "low": "low", "info": "info"}
FINDING_VIEWS = (View.IDENTITIES.value, View.ENDPOINTS.value, View.SECRETS.value, "governance")


def score_text(overview: Overview) -> Text:
    score = overview.score
    out = Text()
    if score.value is None:
        out.append("n/a", "bold dim")
        out.append("\nnothing judged yet", "dim")
    else:
        style = (
            "bold green"
            if score.value >= 90
            else "bold yellow"
            if score.value >= 70
            else "bold red"
        )
        out.append(f"{score.value:.1f}", style)
        out.append(" / 100", "dim")
    out.append(f"\n{score.failing:,} failing", "red" if score.failing else "dim")
    out.append(f" · {score.passing:,} passing", "dim")
    unknown_style = "bold magenta" if score.unknown else "dim"
    out.append(f"\n{score.unknown:,} unknown", unknown_style)
    share = score.unknown_share
    if score.unknown and share is not None:
        out.append(f" ({share:.0%} not judged)", unknown_style)
    out.append(f" · {score.waived:,} waived", "cyan" if score.waived else "dim")
    return out


def changes_text(overview: Overview) -> Text:
    out = Text()
    if overview.previous is None or overview.opened is None:
        out.append("no previous snapshot to compare with", "dim")
        return out
    out.append(
        f"+{overview.opened:,}" if overview.opened else "0",
        "bold red" if overview.opened else "dim",
    )
    out.append(" new failing\n")
    out.append(
        f"-{overview.resolved:,}" if overview.resolved else "0",
        "bold green" if overview.resolved else "dim",
    )
    out.append(" resolved\n")
    out.append(
        f"since #{overview.previous.id} ({fmt.short_time(overview.previous.finished_at)} UTC)",
        "dim",
    )
    out.append("\n:changes for the list", "dim")
    return out


def counts_table(overview: Overview) -> Table:
    table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
    table.add_column("view", no_wrap=True)
    for severity in SEVERITIES:
        table.add_column(Text(SHORT[severity], fmt.SEVERITY_STYLES[severity]), justify="right")
    table.add_column(Text("unknown", "magenta"), justify="right")
    for view in FINDING_VIEWS:
        by_severity = overview.failing.get(view, {})
        cells = [Text(view)]
        for severity in SEVERITIES:
            number = by_severity.get(severity, 0)
            cells.append(Text(f"{number:,}", fmt.SEVERITY_STYLES[severity] if number else "dim"))
        unknown = overview.unknown.get(view, 0)
        cells.append(Text(f"{unknown:,}", "magenta" if unknown else "dim"))
        table.add_row(*cells)
    return table


def health_text(overview: Overview, last_ok: dict[tuple[str, str], str], now: Any) -> Text:
    """One line per collector run of the shown snapshot; the error in full below it."""
    out = Text()
    runs = overview.snapshot.runs if overview.snapshot else []
    if not runs:
        out.append("no collector runs recorded", "dim")
    for number, run in enumerate(runs):
        if number:
            out.append("\n")
        mark, style = {
            RunStatus.OK: ("✓ ok", "green"),
            RunStatus.PARTIAL: ("◐ partial", "bold yellow"),
            RunStatus.FAILED: ("✗ failed", "bold red"),
        }[run.status]
        out.append(f"{mark:<9} ", style)
        out.append_text(fmt.safe(f"{run.collector} {run.scope or run.target}", "bold"))
        ok = last_ok.get((run.collector, run.target))
        out.append(f"  {run.items:,} items", "dim")
        if run.status is RunStatus.OK:
            out.append(f" · {fmt.age(ok, now)} ago", "dim")
        else:
            out.append(f" · last ok {fmt.age(ok, now)} ago" if ok else " · never ok", "dim")
        if run.error:
            out.append("\n  ")
            out.append_text(fmt.safe(run.error, "red"))
    return out


def _risk(row: dict[str, Any]) -> Text:
    """A root cause is named by its label (data from the estate: escaped), a finding
    that shares no cause by its title."""
    if row.get("affects", 1) > 1 and row.get("cause_label"):
        return fmt.safe(row["cause_label"])
    return fmt.safe(row["title"])


def _affected(row: dict[str, Any]) -> Text:
    affects = row.get("affects", 1)
    if affects > 1:
        return Text(f"affects {affects}", "bold")
    return fmt.safe(row["name"], "bold")


def risk_columns(app: Any) -> list[Column]:
    return [
        Column("severity", "SEV", 8, lambda r: fmt.severity(r["severity"])),
        Column("view", "VIEW", 10, lambda r: Text(r["view"], "dim")),
        Column("title", "RISK (ROOT CAUSE)", 0, _risk),
        Column("name", "RESOURCE", 0, _affected),
        Column("where", "SCOPE/NAMESPACE", 24, _where),
        Column("age", "OPEN", 4, lambda r: Text(fmt.age(r["first_seen"], app.clock())), "right"),
    ]


class OverviewScreen(DashboardScreen):
    VIEW: ClassVar[str] = "overview"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("overview",)
    BINDINGS: ClassVar[list[BindingType]] = bindings("overview")

    def compose_body(self) -> ComposeResult:
        with Grid(id="overview"):
            with Vertical(classes="panel", id="score-panel") as panel:
                panel.border_title = "Posture score"
                yield Static(id="score")
            with Vertical(classes="panel", id="trend-panel") as panel:
                panel.border_title = "Trend (retained snapshots)"
                yield Sparkline([], id="trend")
                yield Static(id="trend-label")
            with Vertical(classes="panel", id="changes-panel") as panel:
                panel.border_title = "Since previous snapshot"
                yield Static(id="changes")
            with Vertical(classes="panel", id="counts-panel") as panel:
                panel.border_title = "Open findings by view and severity (unwaived)"
                yield Static(id="counts")
            with Vertical(classes="panel", id="health-panel") as panel:
                panel.border_title = "Collector health"
                yield Static(id="health")
            with Vertical(classes="panel", id="risks-panel") as panel:
                panel.border_title = "Top risks by root cause (enter opens)"
                yield VirtualTable(risk_columns(self.app), empty="no failing findings", id="risks")

    def on_mount(self) -> None:
        self.query_one("#risks", VirtualTable).focus()
        super().on_mount()

    def refresh_data(self) -> None:
        app = self.posture
        overview = app.queries.overview(top=20)
        self.query_one("#score", Static).update(score_text(overview))
        self.query_one("#changes", Static).update(changes_text(overview))
        self.query_one("#counts", Static).update(counts_table(overview))
        last_ok = app.header_info.last_ok if app.header_info else {}
        self.query_one("#health", Static).update(health_text(overview, last_ok, app.clock()))
        risks = self.query_one("#risks", VirtualTable)
        risks.empty_message = (
            "reading the cache…" if overview.top_risks is None else "no failing findings"
        )
        risks.set_source(ListRows(overview.top_risks or [], app.data_generation))
        self.show_trend()
        if app.queries.ready:  # the trend's scan waits until the first frame is up
            app.ensure_trend()

    def show_trend(self) -> None:
        points = [value for _, value in self.posture.trend_points if value is not None]
        sparkline = self.query_one("#trend", Sparkline)
        sparkline.data = points or [0]
        label = Text()
        if points:
            label.append(f"{len(points)} snapshots · min {min(points):.1f} · max {max(points):.1f}")
            label.append(f" · now {points[-1]:.1f}", "bold")
        else:
            label.append("no scored snapshots yet", "dim")
        self.query_one("#trend-label", Static).update(label)

    def action_details(self) -> None:
        row = self.query_one("#risks", VirtualTable).current_row
        if row is None:
            return
        if row.get("affects", 1) > 1 and row.get("cause"):
            # A cause's findings may span views (a published Service: its endpoint rows
            # and the identity paths that start at it): one list across views.
            open_cause(self.app, row["cause"], row.get("cause_label") or "")
            return
        self.posture.switch_view(row["view"], filter_text="", focus_fid=row["fid"])
