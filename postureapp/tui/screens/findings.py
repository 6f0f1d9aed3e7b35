"""Identities, Endpoints, Secrets: a virtual table of one view's findings, a filter
line, a detail pane, and triage (waive, note, copy as Markdown, jump to related, the
collected facts of the resource). The same screen lists a control's evidence."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import OptionList

from postureapp.store.views import WAIVER_EXPIRED, WAIVER_LIVE, FindingRows, Sort
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.screens.modals import MarkdownView, NoteForm, WaiverForm
from postureapp.tui.screens.table import TableScreen
from postureapp.tui.widgets.bar import TextBar
from postureapp.tui.widgets.detail import FindingDetail
from postureapp.tui.widgets.vtable import Column, VirtualTable

FILTER_PLACEHOLDER = (
    "filter: words  -word  sev:high  ns:prod  status:fail|all  kind:Pod  provider:aws"
    "  check:<id>  -term excludes  (enter keeps, esc cancels)"
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


def _title(row: dict[str, Any]) -> Text:
    """Folded by root cause, a cause's row names the cause and how many rows it holds."""
    affects = row.get("affects") or 1
    if affects > 1 and row.get("cause_label"):
        # The count first: a long label is cut at the column's edge, the count never.
        out = Text(f"▸ affects {affects} · ", "bold magenta")
        out.append_text(fmt.safe(row["cause_label"], "bold"))
        return out
    return fmt.safe(row["title"])


def open_cause(app: Any, cause: str, label: str) -> None:
    """The findings of one root cause, across views, on a screen pushed over the current
    one (escape returns)."""
    screen = FindingsScreen(None, title=f"ROOT CAUSE: {label}"[:80])
    screen.filter_text = f"cause:{cause}"
    app.hold_keys()
    app.push_screen(screen)


def finding_columns(app: Any) -> list[Column]:
    """The columns of the finding tables; ``app.clock`` gives "now" for ages. The title
    gets room first (``vtable.layout``); age, then the waiver flag, go when narrow."""
    return [
        Column("severity", "SEV", 8, lambda r: fmt.severity(r["severity"])),
        Column("status", "STATUS", 7, lambda r: fmt.status(r["status"])),
        Column("title", "FINDING", 0, _title, min=16, comfort=44, grow=0),
        Column(
            "kind",
            "KIND",
            0,
            lambda r: fmt.safe(r["kind"], "dim"),
            min=6,
            max=24,
            comfort=10,
            grow=3,
        ),
        Column(
            "name",
            "RESOURCE",
            0,
            lambda r: fmt.safe(r["name"], "bold"),
            min=10,
            max=48,
            comfort=18,
            grow=1,
        ),
        Column("where", "SCOPE/NAMESPACE", 0, _where, min=8, max=40, comfort=14, grow=2),
        Column(
            "age", "AGE", 4, lambda r: Text(fmt.age(r["first_seen"], app.clock())), "right", drop=2
        ),
        Column("waiver", "WAIVER", 7, _waiver, optional=True, drop=1),
    ]


SORTABLE = ("severity", "status", "title", "kind", "name", "where", "age", "waiver")
IDENTITY_SORTABLE = (*SORTABLE, "exposed", "reach")
ALL_VIEWS_SORTABLE = (*SORTABLE, "view")


def _exposed(row: dict[str, Any]) -> Text:
    return Text("yes", "bold #F5A623") if row.get("exposed") else Text("")


def identity_columns(app: Any) -> list[Column]:
    """The Identities view adds, per resource, whether an internet-facing endpoint
    reaches it and what it can reach (from the identity graph, filled in when built)."""
    columns = finding_columns(app)
    columns.insert(6, Column("exposed", "EXP", 3, _exposed, optional=True, drop=3))
    columns.insert(
        7,
        Column(
            "reach", "REACH", 0, _reach, min=6, max=16, comfort=8, grow=4, optional=True, drop=4
        ),
    )
    return columns


def evidence_columns(app: Any) -> list[Column]:
    """A control's findings span views: the view is a column."""
    columns = finding_columns(app)
    columns.insert(2, Column("view", "VIEW", 10, lambda r: Text(r["view"] or "", "dim"), drop=3))
    return columns


def _reach(row: dict[str, Any]) -> Text:
    return fmt.safe(row.get("reach") or "", "bold red")


class FindingsScreen(TableScreen):
    """One view's findings; or, with ``view=None``, the findings of some ``checks``
    across views (a control's evidence), pushed over governance."""

    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("table", "findings", "resource")
    BINDINGS: ClassVar[list[BindingType]] = (
        bindings("table") + bindings("findings") + bindings("resource")
    )
    FILTER_PLACEHOLDER: ClassVar[str] = FILTER_PLACEHOLDER

    def __init__(
        self, view: str | None, *, checks: tuple[str, ...] | None = None, title: str = ""
    ) -> None:
        super().__init__()
        self.VIEW = view or ""  # type: ignore[misc]
        self.view = view
        self.checks = checks
        self.title_text = title or (view or "findings").upper()
        # a control's evidence opens on what fails; status:all shows what passes too
        self.filter_text = "status:fail" if view is None else ""
        self.sort = Sort()
        self.show_waived = False
        self.fold = False  # one row per root cause (z)
        self.detail_open = False
        self.rows: FindingRows | None = None
        self._detail_fid: int | None = None

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield from self.compose_filter()
        if self.view is None:
            columns = evidence_columns
        else:
            columns = identity_columns if self.view == "identities" else finding_columns
        yield VirtualTable(
            columns(self.app),
            empty="no findings match (esc clears the filter)",
            id="table",
        )
        yield FindingDetail(id="detail")

    def on_mount(self) -> None:
        self.table.set_sort(self.sort.column, self.sort.descending)
        self.filter_box.value = self.filter_text
        super().on_mount()

    # -- data ------------------------------------------------------------------------------

    def refresh_data(self, focus_fid: int | None = None) -> None:
        spec = self.spec()
        current = self.table.current_row
        keep_fid = focus_fid if focus_fid is not None else (current or {}).get("fid")
        self.rows = self.posture.queries.query(
            self.view,
            spec,
            self.sort,
            show_waived=self.show_waived,
            checks=self.checks,
            fold=self.fold,
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
        bar.append_text(fmt.safe(f" {self.title_text} ", "bold reverse"))
        shown = len(rows) if rows is not None else 0
        total = rows.total if rows is not None else 0
        if rows is not None and rows.affects is not None:
            held = len(rows) - len(rows.affects) + sum(rows.affects.values())
            bar.append(f"  {shown:,} rows for {held:,} of {total:,} findings", "bold")
        else:
            bar.append(f"  {shown:,} of {total:,} findings", "bold")
        sort_label = dict(where="scope/namespace").get(self.sort.column, self.sort.column)
        bar.append(f" · sort {sort_label} {'↓' if self.sort.descending else '↑'}", "dim")
        if self.filter_text:
            bar.append(" · filter ", "dim")
            bar.append_text(fmt.safe(self.filter_text, "bold"))
        if "status:" not in self.filter_text:
            bar.append(" · passes hidden (status:all)", "dim")
        hidden = self.posture.queries.hidden_waived(self.view) if self.view else 0
        if self.fold:
            bar.append(" · folded by root cause (z unfolds, enter expands)", "magenta")
        if self.show_waived:
            bar.append(" · waived shown (W hides)", "cyan")
        elif hidden:
            bar.append(f" · {hidden:,} waived hidden (W shows)", "cyan")
        if self.view is None:
            bar.append(" · esc returns", "dim")
        self.query_one("#tablebar", TextBar).show(bar)
        self.show_errors(errors)

    def apply_request(
        self, filter_text: str | None = None, focus_fid: Any = None, **options: Any
    ) -> None:
        if filter_text is not None:
            self.filter_text = filter_text
            self.filter_box.value = filter_text
        if focus_fid is not None and self.show_waived is False:
            row = self.posture.queries.row(focus_fid)
            if row and row["waiver"] == WAIVER_LIVE:
                self.show_waived = True
        self.refresh_data(focus_fid=focus_fid)
        self.focus_main()

    def handle_back(self) -> bool:
        related = self.query_one("#related", OptionList)
        if related.has_focus:
            self.focus_main()
            return True
        if self.detail_open:
            self.detail_open = False
            self.query_one("#detail").remove_class("-open")
            self.focus_main()
            return True
        if self.view is None:
            return False  # the evidence list closes, its filter with it
        return super().handle_back()

    # -- sort and waived -----------------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        sortable = (
            IDENTITY_SORTABLE
            if self.view == "identities"
            else ALL_VIEWS_SORTABLE
            if self.view is None
            else SORTABLE
        )
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

    def action_toggle_fold(self) -> None:
        self.fold = not self.fold
        self.refresh_data()

    # -- detail --------------------------------------------------------------------------------

    def current_finding(self) -> dict[str, Any] | None:
        row = self.table.current_row
        if row is None or row.get("fid") is None:
            return None
        return self.posture.queries.finding(row["fid"])

    def action_details(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        if self.fold and (row.get("affects") or 1) > 1 and row.get("cause"):
            # Expand: the cause's rows, unfolded, by the filter that names it.
            self.fold = False
            self.filter_text = f"cause:{row['cause']}"
            self.filter_box.value = self.filter_text
            self.refresh_data(focus_fid=row["fid"])
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
        self.set_focus(self.query_one("#related", OptionList))

    def action_facts(self) -> None:
        row = self.table.current_row
        if row is not None and row.get("resource_uid"):
            self.posture.show_facts(row["resource_uid"])

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
        from postureapp.tui.markdown import finding_markdown  # the exporters' helpers

        markdown = finding_markdown(finding, self.posture.clock())
        self.app.copy_to_clipboard(markdown)
        self.app.push_screen(MarkdownView(markdown))
