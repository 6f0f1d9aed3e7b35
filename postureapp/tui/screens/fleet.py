"""Fleet: every target of the cache side by side (``:fleet``).

Rows are targets: each Kubernetes cluster, each AWS account (its regions folded under
it; ``:ctx ACCOUNT/REGION`` shows one region). Each row says how its collectors did and
how old its data is (its last successful collection: a failed or partial target says so,
and its age keeps growing). Two matrices, ``f`` switches: targets x views (open failing
findings, coloured by the worst severity, and unknown counts) and targets x governance
controls (one glyph per control). Enter on a target shows only it, from its overview
(the ``:ctx`` switch); enter on a cell opens that view, or that control's failing
findings, for that target.

The matrix reads the whole snapshot, whatever context is shown, in a worker with its own
connection (``postureapp.store.fleet``): 100,000 findings take about a second.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Static

from postureapp.store import Store
from postureapp.store.fleet import NOT_APPLICABLE, Fleet, FleetRow, fleet
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.widgets.bar import TextBar

FINDING_VIEWS = ("identities", "endpoints", "secrets", "governance")
SHORT = {"critical": "crit", "high": "high", "medium": "med", "low": "low", "info": "info"}
LEAD = ("target", "health", "age")  # the columns about the target itself
GLYPHS = {
    "pass": ("✓", "green"),
    "partial": ("◐", "yellow"),
    "fail": ("✗", "bold red"),
    "unknown": ("?", "magenta"),
    NOT_APPLICABLE: ("·", "dim"),
}
HEALTH = {
    "ok": ("✓ ok", "green"),
    "partial": ("◐ partial", "bold yellow"),
    "failed": ("✗ failed", "bold red"),
}


class FleetComputed(Message):
    """The worker read the fleet of one snapshot (or could not: ``error``)."""

    def __init__(self, generation: int, result: Fleet | None, error: str = "") -> None:
        super().__init__()
        self.generation = generation
        self.result = result
        self.error = error


def target_text(row: FleetRow, shown: str | None) -> Text:
    out = Text("● " if row.name == shown else "  ", "bold cyan")
    out.append_text(fmt.safe(row.name, "bold"))
    if row.label:
        out.append(" ")
        out.append_text(fmt.safe(row.label, "dim"))
    return out


def health_text(row: FleetRow) -> Text:
    if row.health not in HEALTH:
        return Text("no run", "dim")
    out = Text(*HEALTH[row.health])
    if row.carried == "as-is":
        out.append(" carried", "dim")
    return out


def age_text(row: FleetRow, now: Any) -> Text:
    """The age of the data shown: its last successful collection, never the last try."""
    if row.last_ok is None:
        return Text("never ok", "bold red" if row.health != "none" else "dim")
    age = fmt.age(row.last_ok, now)
    if row.health == "ok":
        return Text(age, "yellow" if row.carried else "")
    return Text(f"{age} (last ok)", "bold red" if row.health == "failed" else "yellow")


def view_cell(row: FleetRow, view: str) -> Text:
    failing = row.failing_count(view)
    unknown = row.unknown.get(view, 0)
    worst = row.worst(view)
    out = Text()
    if worst is not None:
        out.append(f"{failing:,} {SHORT[worst]}", fmt.SEVERITY_STYLES[worst])
    elif unknown:
        out.append(f"?{unknown:,}", "magenta")  # not judged: never shown as clean
        return out
    elif row.judged.get(view):
        out.append("✓ 0", "green")
    else:
        out.append("-", "dim")  # nothing judged in this view for this target
    if unknown:
        out.append(f" ?{unknown:,}", "magenta")
    return out


def control_cell(status: str) -> Text:
    glyph, style = GLYPHS.get(status, ("?", "magenta"))
    return Text(glyph, style)


def detail_text(row: FleetRow, column: str, fleet_: Fleet, now: Any) -> Text:
    """What the highlighted cell means, and what enter does with it."""
    out = Text()
    out.append_text(fmt.safe(row.name, "bold"))
    if row.label:
        out.append_text(fmt.safe(f" ({row.label})", "dim"))
    out.append(f"  {row.kind}  ", "dim")
    out.append_text(health_text(row))
    if row.last_ok:
        out.append(f" · data from {fmt.short_time(row.last_ok)} UTC ({fmt.age(row.last_ok, now)})")
    else:
        out.append(" · no successful collection retained", "bold red")
    if row.carried == "as-is":
        out.append(" · no new part since: carried as it was", "yellow")
    for error in row.errors[:3]:
        out.append("\n  ")
        out.append_text(fmt.safe(error, "red"))
    out.append("\n")
    if column in FINDING_VIEWS:
        out.append(f"{column}: ", "bold")
        by_severity = row.failing.get(column, {})
        for severity in SHORT:
            if by_severity.get(severity):
                out.append(f"{by_severity[severity]:,} {severity}  ", fmt.SEVERITY_STYLES[severity])
        if not by_severity:
            out.append("no open failing findings  ", "dim")
        out.append(f"{row.unknown.get(column, 0):,} unknown", "magenta")
        out.append(f"   enter opens {column} for this target", "dim")
    elif column.startswith("control:"):
        meta = next(m for m in fleet_.controls if m.id == column.split(":", 1)[1])
        status = row.controls.get(meta.id, "unknown")
        out.append_text(control_cell(status))
        out.append(f" {status}  ", GLYPHS.get(status, ("", "magenta"))[1])
        out.append_text(fmt.safe(f"{meta.id} — {meta.title}", "bold"))
        if status == NOT_APPLICABLE:
            out.append("   none of its checks looks at this kind of target", "dim")
        else:
            out.append("   enter lists its failing findings for this target", "dim")
    else:
        out.append("enter shows only this target, from its overview", "dim")
    return out


class FleetScreen(DashboardScreen):
    """Targets x views, or targets x governance controls (``f``)."""

    VIEW: ClassVar[str] = "fleet"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("fleet",)
    BINDINGS: ClassVar[list[BindingType]] = bindings("fleet")
    MAIN: ClassVar[str] = "#fleet"
    DEFAULT_CSS = """
    FleetScreen #fleet { height: 1fr; background: $surface; }
    FleetScreen #fleet-detail { height: 6; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.mode = "views"  # or "controls"
        self.fleet: Fleet | None = None
        self.error = ""
        self._asked = 0  # the generation of the newest read asked of the worker
        self._columns: list[str] = []

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield DataTable(id="fleet", cursor_type="cell", zebra_stripes=True)
        with VerticalScroll(id="fleet-detail", classes="panel"):
            yield Static(id="fleet-body")

    @property
    def table(self) -> DataTable:
        return self.query_one("#fleet", DataTable)

    # -- reading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Ask the worker for the fleet of the shown snapshot; show what we have."""
        app = self.posture
        self._asked = app.data_generation
        snapshot = app.queries.snapshot
        metas = list(app.registry.controls.values())
        now = app.clock()
        path = app.db_path
        generation = self._asked

        def read() -> None:
            try:
                with Store(path, readonly=True) as store:
                    result = fleet(store, snapshot, metas, now)
            except Exception as error:  # shown on the screen; the other views still work
                self.post_message(
                    FleetComputed(generation, None, f"{type(error).__name__}: {error}")
                )
            else:
                self.post_message(FleetComputed(generation, result))

        self.run_worker(read, thread=True, exclusive=True, group="fleet", exit_on_error=False)
        self._show_fleet()

    @on(FleetComputed)
    def _computed(self, message: FleetComputed) -> None:
        if message.generation != self._asked:
            return  # an older read finished after a newer one was asked
        self.fleet, self.error = message.result, message.error
        self._show_fleet()

    # -- showing -------------------------------------------------------------------------

    def _show_fleet(self) -> None:
        table = self.table
        keep = table.cursor_coordinate
        table.clear(columns=True)
        result = self.fleet
        app = self.posture
        now = app.clock()
        columns: list[tuple[str, Text]] = [
            ("target", Text("TARGET")),
            ("health", Text("HEALTH")),
            ("age", Text("DATA AGE")),
        ]
        if self.mode == "views":
            columns += [(view, Text(view.upper())) for view in FINDING_VIEWS]
        elif result is not None:
            columns += [
                (f"control:{meta.id}", Text(f"{number:>2}"))
                for number, meta in enumerate(result.controls, 1)
            ]
        self._columns = [key for key, _ in columns]
        for key, label in columns:
            table.add_column(label, key=key)
        table.fixed_columns = 1
        rows = result.rows if result is not None else []
        controls = result.controls if result is not None else []
        for row in rows:
            cells = [target_text(row, app.queries.scope), health_text(row), age_text(row, now)]
            if self.mode == "views":
                cells += [view_cell(row, view) for view in FINDING_VIEWS]
            else:
                cells += [control_cell(row.controls.get(m.id, "unknown")) for m in controls]
            table.add_row(*cells, key=row.name)
        if rows:
            table.cursor_coordinate = Coordinate(
                min(keep.row, len(rows) - 1), min(keep.column, len(columns) - 1)
            )
        self._bar(rows)
        self._detail()

    def _bar(self, rows: list[FleetRow]) -> None:
        bar = Text()
        bar.append(" FLEET ", "bold reverse")
        bar.append("  by view" if self.mode == "views" else "  by governance control", "bold")
        if self.fleet is None and not self.error:
            bar.append(" · reading…", "dim")
        bar.append(f" · {len(rows)} targets")
        for health in ("failed", "partial"):
            number = sum(row.health == health for row in rows)
            if number:
                bar.append(" · ")
                bar.append(*HEALTH[health])
                bar.append(f" {number}")
        bar.append("  f: by control" if self.mode == "views" else "  f: by view", "dim")
        self.query_one("#tablebar", TextBar).show(bar)

    def _detail(self) -> None:
        body = self.query_one("#fleet-body", Static)
        if self.error:
            body.update(fmt.safe(f"Could not read the fleet: {self.error}", "bold red"))
            return
        cell = self._cell()
        if cell is None or self.fleet is None:
            empty = "reading the fleet…" if self.fleet is None else "no targets in the cache"
            body.update(Text(empty, "dim"))
            return
        row, column = cell
        body.update(detail_text(row, column, self.fleet, self.posture.clock()))

    def _cell(self, coordinate: Coordinate | None = None) -> tuple[FleetRow, str] | None:
        if self.fleet is None or not self.fleet.rows:
            return None
        where = coordinate or self.table.cursor_coordinate
        if not 0 <= where.row < len(self.fleet.rows) or not 0 <= where.column < len(self._columns):
            return None
        return self.fleet.rows[where.row], self._columns[where.column]

    @on(DataTable.CellHighlighted, "#fleet")
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._detail()

    # -- actions ---------------------------------------------------------------------------

    def action_next_mode(self) -> None:
        self.mode = "controls" if self.mode == "views" else "views"
        self._show_fleet()

    @on(DataTable.CellSelected, "#fleet")
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.open_cell(event.coordinate)

    def action_details(self) -> None:
        self.open_cell(self.table.cursor_coordinate)

    def open_cell(self, coordinate: Coordinate) -> None:
        """Enter: a target's own columns show only it (its overview); a view cell opens
        that view of it; a control cell lists that control's failing findings in it."""
        cell = self._cell(coordinate)
        if cell is None:
            return
        row, column = cell
        app = self.posture
        if row.name not in {context.name for context in app.queries.contexts()}:
            self.notify(
                f"{row.name} has no context to show (nothing was collected from it).",
                severity="warning",
                markup=False,
            )
            return
        app.set_context(row.name)
        if column in FINDING_VIEWS:
            app.switch_view(column)
        elif column.startswith("control:") and self.fleet is not None:
            meta = next(m for m in self.fleet.controls if m.id == column.split(":", 1)[1])
            app.show_evidence(f"CONTROL {meta.id} · {row.name}", meta.checks)
        else:
            app.switch_view("overview")
