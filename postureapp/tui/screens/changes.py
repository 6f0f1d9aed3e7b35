"""Changes: findings opened, resolved or changed between two snapshots. Defaults to
"since the previous snapshot"; presets compare with 24 hours or 7 days ago. The diff
runs in a worker (it reads two whole snapshots); the table shows it when it lands."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType

from postureapp.store.views import ListRows
from postureapp.tui import text as fmt
from postureapp.tui.actions import bindings
from postureapp.tui.messages import DiffComputed
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.widgets.bar import TextBar
from postureapp.tui.widgets.vtable import Column, VirtualTable

CHANGE_STYLES = {"opened": "bold red", "resolved": "bold green", "changed": "yellow"}


def _transition(row: dict[str, Any]) -> Text:
    out = fmt.status(row["previous_status"])
    out.append(" → ", "dim")
    out.append_text(fmt.status(row["status"]))
    return out


def _resource(row: dict[str, Any]) -> Text:
    kind, name, _, _ = row["resource"]
    out = fmt.safe(f"{kind} ", "dim") if kind else Text()
    out.append_text(fmt.safe(name, "bold"))
    return out


def _where(row: dict[str, Any]) -> Text:
    _, _, namespace, scope = row["resource"]
    return fmt.safe(f"{scope}/{namespace}" if namespace else scope)


def change_columns() -> list[Column]:
    return [
        Column("change", "CHANGE", 8, lambda r: Text(r["change"], CHANGE_STYLES[r["change"]])),
        Column("severity", "SEV", 8, lambda r: fmt.severity(r["severity"])),
        Column("transition", "STATUS", 17, _transition),
        Column("title", "FINDING", 0, lambda r: fmt.safe(r["title"])),
        Column("resource", "RESOURCE", 0, _resource),
        Column("where", "SCOPE/NAMESPACE", 22, _where),
        Column(
            "fields",
            "WHAT MOVED",
            15,
            lambda r: Text(", ".join(r.get("fields") or []) or ("waived" if r["waived"] else "")),
        ),
    ]


class ChangesScreen(DashboardScreen):
    VIEW: ClassVar[str] = "changes"
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ("changes",)
    BINDINGS: ClassVar[list[BindingType]] = bindings("changes")

    def __init__(self) -> None:
        super().__init__()
        self.hours: int | None = None  # None: since the previous snapshot
        self.pair: tuple[int, int] | None = None  # two snapshots the user picked
        self.label = "since previous snapshot"
        self.from_id: int | None = None
        self.to_id: int | None = None
        self.counts: dict[str, int] = {}
        self.loading = False
        self.error = ""

    def compose_body(self) -> ComposeResult:
        yield TextBar(id="tablebar", classes="tablebar")
        yield VirtualTable(
            change_columns(), empty="nothing changed between these snapshots", id="changes"
        )

    def on_mount(self) -> None:
        self.query_one("#changes", VirtualTable).focus()
        super().on_mount()

    def refresh_data(self) -> None:
        queries = self.posture.queries
        snapshot = queries.snapshot
        self.error = ""
        if snapshot is None:
            self.from_id = self.to_id = None
            self.error = "no snapshot in the cache yet"
            self._set_rows([])
            return
        if self.pair is not None:
            if all(queries.store.snapshot(n) is not None for n in self.pair):
                self.from_id, self.to_id = self.pair
                self.loading = True
                self._update_bar()
                self.posture.compute_diff(self.from_id, self.to_id, self.label)
                return
            self.pair = None  # pruned since it was picked: back to the default
            self.label = "since previous snapshot"
        base = queries.previous if self.hours is None else queries.snapshot_near(self.hours)
        self.to_id = snapshot.id
        self.from_id = base.id if base is not None and base.id != snapshot.id else None
        if self.from_id is None:
            self.error = "only one snapshot retained: nothing to compare with yet"
            self._set_rows([])
            return
        self.loading = True
        self._update_bar()
        self.posture.compute_diff(self.from_id, self.to_id, self.label)

    def show_diff(self, message: DiffComputed) -> None:
        self.loading = False
        if message.error or message.diff is None:
            self.error = message.error or "the diff failed"
            self._set_rows([])
            return
        diff = message.diff
        if (diff.from_id, diff.to_id) != (self.from_id, self.to_id):
            return  # an older request; the newer one is on its way
        buckets = (("opened", diff.opened), ("resolved", diff.resolved), ("changed", diff.changed))
        labels = self.posture.queries.describe_resources(
            row["resource_uid"] for _, bucket in buckets for row in bucket
        )
        rows = [
            {"change": change, **row, "resource": labels[row["resource_uid"]]}
            for change, bucket in buckets
            for row in bucket
        ]
        self.counts = {
            "opened": len(diff.opened),
            "resolved": len(diff.resolved),
            "changed": len(diff.changed),
        }
        self._set_rows(rows)

    def _set_rows(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#changes", VirtualTable)
        table.set_source(ListRows(rows, self.posture.data_generation + len(rows)))
        self._update_bar()

    def _update_bar(self) -> None:
        queries = self.posture.queries
        bar = Text()
        bar.append(" CHANGES ", "bold reverse")
        bar.append(f"  {self.label}", "bold")
        if self.from_id is not None and self.to_id is not None:
            before = queries.store.snapshot(self.from_id)
            after = queries.store.snapshot(self.to_id)
            bar.append(
                f" · #{self.from_id} {fmt.short_time(before.finished_at if before else None)}"
                f" → #{self.to_id} {fmt.short_time(after.finished_at if after else None)} UTC",
                "dim",
            )
        if self.loading:
            bar.append(" · computing…", "yellow")
        elif self.error:
            bar.append(" · ")
            bar.append_text(fmt.safe(self.error, "yellow"))
        else:
            for change, style in CHANGE_STYLES.items():
                bar.append(" · ")
                bar.append(f"{self.counts.get(change, 0):,} {change}", style)
        self.query_one("#tablebar", TextBar).show(bar)

    def action_since_previous(self) -> None:
        self.hours, self.pair, self.label = None, None, "since previous snapshot"
        self.refresh_data()

    def action_since_hours(self, hours: int) -> None:
        self.hours, self.pair = hours, None
        self.label = "last 24 h" if hours == 24 else f"last {hours // 24} d"
        self.refresh_data()

    def action_compare(self) -> None:
        from postureapp.tui.screens.modals import ComparePrompt

        retained = [snapshot.id for snapshot in self.posture.queries.store.snapshots()]

        def chosen(pair: tuple[int, int] | None) -> None:
            if pair is not None:
                self.pair, self.hours = pair, None
                self.label = f"snapshot #{pair[0]} to #{pair[1]}"
                self.refresh_data()

        self.app.push_screen(ComparePrompt(retained), chosen)

    def action_details(self) -> None:
        row = self.query_one("#changes", VirtualTable).current_row
        if row is None:
            return
        found = self.posture.queries.view_of(row["fingerprint"])
        if found is None:
            self.notify("That finding is not in the current snapshot.", severity="warning")
            return
        view, fid = found
        self.posture.switch_view(
            view, filter_text=f'uid:"{row["resource_uid"]}" status:all', focus_fid=fid
        )
