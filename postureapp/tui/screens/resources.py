"""Resources (``:res``): every resource of the shown snapshot in the shown context,
with or without findings, filtered and sorted in SQL; ``y`` shows what was collected
about one, enter its findings."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType

from postureapp.store.browse import ResourceRows
from postureapp.store.filters import RESOURCE_KEYS
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.screens.findings import _where
from postureapp.tui.screens.table import TableScreen
from postureapp.tui.widgets.bar import TextBar
from postureapp.tui.widgets.vtable import Column, VirtualTable

SORTS = ("kind", "name", "where", "provider", "failing", "age")


def _failing(row: dict[str, Any]) -> Text:
    failing = row.get("failing") or 0
    if failing:
        return Text(f"{failing:,}", "bold red")
    return Text("0" if row.get("findings") else "-", "dim")


def resource_columns(app: Any) -> list[Column]:
    return [
        Column("kind", "KIND", 0, lambda r: fmt.safe(r["kind"], "dim"), min=8, max=28, grow=1),
        Column("name", "NAME", 0, lambda r: fmt.safe(r["name"], "bold"), min=16, max=64, grow=0),
        Column("where", "SCOPE/NAMESPACE", 0, _where, min=10, max=40, grow=2),
        Column("provider", "PROVIDER", 10, lambda r: fmt.safe(r["provider"], "dim"), drop=2),
        Column("failing", "FAILING", 7, _failing, "right"),
        Column(
            "age",
            "AGE",
            4,
            lambda r: Text(fmt.age(r["created_at"] or r["first_seen"], app.clock())),
            "right",
            drop=1,
        ),
    ]


class ResourcesScreen(TableScreen):
    VIEW: ClassVar[str] = "resources"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("table", "resources", "resource")
    BINDINGS: ClassVar[list[BindingType]] = (
        bindings("table") + bindings("resources") + bindings("resource")
    )
    FILTER_KEYS: ClassVar[frozenset[str]] = RESOURCE_KEYS
    FILTER_PLACEHOLDER: ClassVar[str] = (
        "filter: words  -word  kind:Pod  ns:prod  provider:aws  scope:<s>  uid:<uid>"
        "  (enter keeps, esc cancels)"
    )

    def __init__(self) -> None:
        super().__init__()
        self.sort = "kind"
        self.descending = False
        self.rows: ResourceRows | None = None

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield from self.compose_filter()
        yield VirtualTable(
            resource_columns(self.app),
            empty="no resources match (esc clears the filter)",
            id="table",
        )

    def on_mount(self) -> None:
        self.table.set_sort(self.sort, self.descending)
        super().on_mount()

    def refresh_data(self) -> None:
        spec = self.spec()
        current = self.table.current_row
        keep = (current or {}).get("uid")
        self.rows = self.posture.queries.browse.rows(spec, self.sort, self.descending)
        self.table.set_source(self.rows, keep=lambda rows: rows.index_of(keep) if keep else None)
        bar = Text()
        bar.append(" RESOURCES ", "bold reverse")
        bar.append(f"  {len(self.rows):,} of {self.rows.total:,} resources", "bold")
        bar.append(f" · sort {self.sort} {'↓' if self.descending else '↑'}", "dim")
        if self.filter_text:
            bar.append(" · filter ", "dim")
            bar.append_text(fmt.safe(self.filter_text, "bold"))
        bar.append(" · y facts · enter findings", "dim")
        self.query_one("#tablebar", TextBar).show(bar)
        self.show_errors(spec.errors)

    def apply_request(
        self, filter_text: str | None = None, focus_fid: Any = None, **options: Any
    ) -> None:
        if filter_text is not None:
            self.set_filter(filter_text)
        self.focus_main()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.descending = self.sort in ("failing", "age")
        self.table.set_sort(self.sort, self.descending)
        self.refresh_data()

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self.table.set_sort(self.sort, self.descending)
        self.refresh_data()

    def action_facts(self) -> None:
        row = self.table.current_row
        if row is not None and row.get("uid"):
            self.posture.show_facts(row["uid"])

    def action_findings(self) -> None:
        row = self.table.current_row
        if row is not None and row.get("uid"):
            self.posture.jump_to_resource(row["uid"])
