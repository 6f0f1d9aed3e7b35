"""What the finding tables and the resource browser share: a virtual table, a filter
line under ``/`` and its error line, and a status bar.

The filter is debounced by the key queue rather than by a clock: after each key the
query is queued on the app *behind the keys already waiting*, so a burst (a paste,
keys typed while the dashboard was busy) costs one query, run as soon as its last
key is in, while keys typed at human speed each get their answer at once. A timer
would add its delay to every settled query; this adds none. Enter applies at once.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from postureapp.store.filters import FINDING_KEYS, FilterSpec, parse_filter
from postureapp.tui import text as fmt
from postureapp.tui.keys import LineInput
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.widgets.vtable import VirtualTable


class TableScreen(DashboardScreen):
    MAIN: ClassVar[str] = "#table"
    FILTER_KEYS: ClassVar[frozenset[str]] = FINDING_KEYS
    FILTER_PLACEHOLDER: ClassVar[str] = "filter"

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._filter_before = ""

    def compose_filter(self) -> ComposeResult:
        yield LineInput(placeholder=self.FILTER_PLACEHOLDER, id="filter", classes="filter")
        yield Static(id="filter-errors", classes="filter-errors")

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#table", VirtualTable)

    @property
    def filter_box(self) -> LineInput:
        return self.query_one("#filter", LineInput)

    def spec(self) -> FilterSpec:
        return parse_filter(self.filter_text, self.FILTER_KEYS)

    def show_errors(self, errors: tuple[str, ...]) -> None:
        problems = self.query_one("#filter-errors", Static)
        if errors or problems.has_class("-visible"):
            problems.update(Text("\n").join(fmt.safe(error, "bold red") for error in errors))
            problems.set_class(bool(errors), "-visible")

    # -- the filter line -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # '/' is a priority binding: text while typing
            return self.is_mounted and not self.typing()
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        box = self.filter_box
        self._filter_before = self.filter_text
        box.value = self.filter_text
        box.cursor_position = len(box.value)
        box.add_class("-open")
        self.set_focus(box)  # now, not after the keys already queued (keys.py)

    def line_edited(self, line: LineInput) -> None:
        """A key changed a line input (called by the app, in key order)."""
        if line.id == "filter":
            self.app.call_later(self._apply_typed_filter)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # Set from code (or a paste): same path, behind whatever is queued.
        self.app.call_later(self._apply_typed_filter)

    def _apply_typed_filter(self) -> None:
        """Query with what the filter line holds now (not what a key or event carried);
        the calls queued by the other keys of a burst find nothing left to do."""
        if not self.is_attached:
            return
        value = self.filter_box.value
        if value != self.filter_text:
            self.filter_text = value
            self.refresh_data()

    def _close_filter(self) -> None:
        self.filter_box.remove_class("-open")
        self.focus_main()

    def line_submitted(self, line: LineInput) -> None:
        if line.id != "filter":
            super().line_submitted(line)
            return
        self._close_filter()
        if line.value != self.filter_text:
            self.filter_text = line.value
            self.refresh_data()

    def line_cancelled(self, line: LineInput) -> None:
        if line.id != "filter":
            super().line_cancelled(line)
            return
        self._close_filter()
        line.value = self._filter_before
        if self.filter_text != self._filter_before:
            self.filter_text = self._filter_before
            self.refresh_data()

    def set_filter(self, text: str) -> None:
        """Set the filter from elsewhere (a jump, ``:view FILTER``)."""
        self.filter_text = text
        self.filter_box.value = text
        self.refresh_data()

    def handle_back(self) -> bool:
        if self.filter_text:
            self.set_filter("")
            return True
        return False
