"""Identities, Endpoints, Secrets: a virtual table of one view's findings, a filter
line, a detail pane, and triage (waive, note, copy as Markdown, jump to related)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input, OptionList, Static

from postureapp.store.views import WAIVER_EXPIRED, WAIVER_LIVE, FindingRows, Sort, parse_filter
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.markdown import finding_markdown
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.screens.modals import MarkdownView, NoteForm, WaiverForm
from postureapp.tui.widgets.bar import TextBar
from postureapp.tui.widgets.detail import FindingDetail
from postureapp.tui.widgets.vtable import Column, VirtualTable

FILTER_PLACEHOLDER = (
    "filter: words  sev:high  ns:prod  status:fail|all  kind:Pod  provider:aws  check:<id>"
    "  -term excludes  (enter keeps, esc cancels)"
)


def _where(row: dict[str, Any]) -> Text:
    scope, namespace = row.get("scope") or "", row.get("namespace") or ""
    return fmt.safe(f"{scope}/{namespace}" if namespace else scope, "dim" if not scope else "")


def _waiver(row: dict[str, Any]) -> Text:
    state = row.get("waiver")
    if state == WAIVER_LIVE:
        return Text("waived", "cyan")
    if state == WAIVER_EXPIRED:
        return Text("expired", "bold yellow")
    return Text("")


def finding_columns(app: Any) -> list[Column]:
    """The columns of the finding tables; ``app.clock`` gives "now" for ages."""
    return [
        Column("severity", "SEV", 8, lambda r: fmt.severity(r["severity"])),
        Column("status", "STATUS", 7, lambda r: fmt.status(r["status"])),
        Column("title", "FINDING", 0, lambda r: fmt.safe(r["title"])),
        Column("kind", "KIND", 14, lambda r: fmt.safe(r["kind"], "dim")),
        Column("name", "RESOURCE", 0, lambda r: fmt.safe(r["name"], "bold")),
        Column("where", "SCOPE/NAMESPACE", 24, _where),
        Column("age", "AGE", 4, lambda r: Text(fmt.age(r["first_seen"], app.clock())), "right"),
        Column("waiver", "WAIVER", 7, _waiver),
    ]


SORTABLE = ("severity", "status", "title", "kind", "name", "where", "age", "waiver")
IDENTITY_SORTABLE = (*SORTABLE, "exposed", "reach")


def _exposed(row: dict[str, Any]) -> Text:
    return Text("yes", "bold #F5A623") if row.get("exposed") else Text("")


def identity_columns(app: Any) -> list[Column]:
    """The Identities view adds, per resource, whether an internet-facing endpoint
    reaches it and what it can reach (from the identity graph, filled in when built)."""
    columns = finding_columns(app)
    # Narrower scope and kind columns pay for the two new ones at 120 columns.
    columns[3] = Column("kind", "KIND", 12, columns[3].render)
    columns[5] = Column("where", "SCOPE/NAMESPACE", 18, _where)
    columns.insert(6, Column("exposed", "EXP", 3, _exposed))
    columns.insert(7, Column("reach", "REACH", 12, _reach))
    return columns


def _reach(row: dict[str, Any]) -> Text:
    return fmt.safe(row.get("reach") or "", "bold red")


class FindingsScreen(DashboardScreen):
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("table", "findings")
    BINDINGS: ClassVar[list[BindingType]] = bindings("table") + bindings("findings")

    def __init__(self, view: str) -> None:
        super().__init__()
        self.VIEW = view  # type: ignore[misc]
        self.filter_text = ""
        self.sort = Sort()
        self.show_waived = False
        self.detail_open = False
        self.rows: FindingRows | None = None
        self._filter_before = ""
        self._detail_fid: int | None = None

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield Input(placeholder=FILTER_PLACEHOLDER, id="filter", classes="filter")
        yield Static(id="filter-errors", classes="filter-errors")
        columns = identity_columns if self.VIEW == "identities" else finding_columns
        yield VirtualTable(
            columns(self.app),
            empty="no findings match (esc clears the filter)",
            id="table",
        )
        yield FindingDetail(id="detail")

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#table", VirtualTable)

    def on_mount(self) -> None:
        self.table.set_sort(self.sort.column, self.sort.descending)
        self.table.focus()
        super().on_mount()

    # -- data ------------------------------------------------------------------------------

    def refresh_data(self, focus_fid: int | None = None) -> None:
        spec = parse_filter(self.filter_text)
        current = self.table.current_row
        keep_fid = focus_fid if focus_fid is not None else (current or {}).get("fid")
        self.rows = self.posture.queries.query(
            self.VIEW, spec, self.sort, show_waived=self.show_waived
        )
        self.table.set_source(
            self.rows, keep=lambda rows: rows.index_of(keep_fid) if keep_fid is not None else None
        )
        self._update_bar(spec.errors)
        if self.detail_open:
            self._show_detail(force=True)

    def _update_bar(self, errors: tuple[str, ...] = ()) -> None:
        rows = self.rows
        bar = Text()
        bar.append(f" {self.VIEW.upper()} ", "bold reverse")
        shown = len(rows) if rows is not None else 0
        total = rows.total if rows is not None else 0
        bar.append(f"  {shown:,} of {total:,} findings", "bold")
        sort_label = dict(where="scope/namespace").get(self.sort.column, self.sort.column)
        bar.append(f" · sort {sort_label} {'↓' if self.sort.descending else '↑'}", "dim")
        if self.filter_text:
            bar.append(" · filter ", "dim")
            bar.append_text(fmt.safe(self.filter_text, "bold"))
        if "status:" not in self.filter_text:
            bar.append(" · passes hidden (status:all)", "dim")
        hidden = self.posture.queries.hidden_waived(self.VIEW)
        if self.show_waived:
            bar.append(" · waived shown (W hides)", "cyan")
        elif hidden:
            bar.append(f" · {hidden:,} waived hidden (W shows)", "cyan")
        self.query_one("#tablebar", TextBar).show(bar)
        problems = self.query_one("#filter-errors", Static)
        if errors or problems.has_class("-visible"):
            problems.update(Text("\n").join(fmt.safe(error, "bold red") for error in errors))
            problems.set_class(bool(errors), "-visible")

    def apply_request(self, filter_text: str | None = None, focus_fid: Any = None) -> None:
        if filter_text is not None:
            self.filter_text = filter_text
            self.query_one("#filter", Input).value = filter_text
        if focus_fid is not None and self.show_waived is False:
            row = self.posture.queries.row(focus_fid)
            if row and row["waiver"] == WAIVER_LIVE:
                self.show_waived = True
        self.refresh_data(focus_fid=focus_fid)
        self.table.focus()

    # -- filter ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        self._filter_before = self.filter_text
        box.value = self.filter_text
        box.add_class("-open")
        box.focus()
        box.cursor_position = len(box.value)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value != self.filter_text:
            self.filter_text = event.value
            self.refresh_data()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#filter", Input).remove_class("-open")
        self.table.focus()

    def handle_back(self) -> bool:
        box = self.query_one("#filter", Input)
        related = self.query_one("#related", OptionList)
        if box.has_class("-open"):
            box.remove_class("-open")
            if self.filter_text != self._filter_before:
                box.value = self._filter_before
                self.filter_text = self._filter_before
                self.refresh_data()
            self.table.focus()
            return True
        if related.has_focus:
            self.table.focus()
            return True
        if self.detail_open:
            self.detail_open = False
            self.query_one("#detail").remove_class("-open")
            self.table.focus()
            return True
        if self.filter_text:
            self.filter_text = ""
            box.value = ""
            self.refresh_data()
            return True
        return False

    # -- sort and waived -----------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        sortable = IDENTITY_SORTABLE if self.VIEW == "identities" else SORTABLE
        position = sortable.index(self.sort.column) if self.sort.column in sortable else -1
        column = sortable[(position + 1) % len(sortable)]
        self.sort = Sort(
            column, column in ("severity", "age", "status", "waiver", "exposed", "reach")
        )
        self.table.set_sort(column, self.sort.descending)
        self.refresh_data()

    def action_reverse_sort(self) -> None:
        self.sort = Sort(self.sort.column, not self.sort.descending)
        self.table.set_sort(self.sort.column, self.sort.descending)
        self.refresh_data()

    def action_toggle_waived(self) -> None:
        self.show_waived = not self.show_waived
        self.refresh_data()

    # -- detail --------------------------------------------------------------------------------

    def current_finding(self) -> dict[str, Any] | None:
        row = self.table.current_row
        if row is None or row.get("fid") is None:
            return None
        return self.posture.queries.finding(row["fid"])

    def action_details(self) -> None:
        if self.table.current_row is None:
            return
        self.detail_open = not self.detail_open
        self.query_one("#detail").set_class(self.detail_open, "-open")
        if self.detail_open:
            self._show_detail(force=True)

    def _show_detail(self, force: bool = False) -> None:
        row = self.table.current_row
        fid = row.get("fid") if row else None
        if fid == self._detail_fid and not force:
            return
        self._detail_fid = fid
        finding = self.posture.queries.finding(fid) if fid is not None else None
        self.query_one(FindingDetail).show(finding, self.posture.clock())

    @on(VirtualTable.Highlighted, "#table")
    def _row_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if self.detail_open:
            self._show_detail()

    @on(FindingDetail.Jump)
    def _jump(self, event: FindingDetail.Jump) -> None:
        self.posture.jump_to_resource(event.uid, event.fid)

    def action_related(self) -> None:
        if self.table.current_row is None:
            return
        if not self.detail_open:
            self.action_details()
        self.query_one("#related", OptionList).focus()

    def action_blast(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        self.posture.show_blast_radius(row["resource_uid"], row.get("name") or "")

    # -- triage --------------------------------------------------------------------------------

    def action_waive(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        if finding["status"] == "pass":
            self.notify("This finding passes; there is nothing to waive.", severity="warning")
            return

        def saved(waiver: Any) -> None:
            if waiver is not None:
                self.posture.save_waiver(waiver)

        self.app.push_screen(WaiverForm(finding, self.posture.user, self.posture.clock()), saved)

    def action_note(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return

        def saved(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.posture.save_note(finding["fingerprint"], *result)

        self.app.push_screen(NoteForm(finding, self.posture.user), saved)

    def action_copy_markdown(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        markdown = finding_markdown(finding, self.posture.clock())
        self.app.copy_to_clipboard(markdown)
        self.app.push_screen(MarkdownView(markdown))
