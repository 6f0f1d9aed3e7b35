"""A virtual table on Textual's line API.

Only the rows on screen are ever rendered: ``render_line`` asks the row source for one
row (the source fetches pages of rows from SQLite and keeps an LRU of them) and keeps
an LRU of rendered lines. The built-in ``DataTable`` measures every cell of every row
up front, which took 31.9 s for 50,000 rows; this paints in constant time whatever
the row count.

Every cell is a ``rich.text.Text`` built by a column's renderer from data, never a
markup string, so names from outside are shown as they are.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Protocol

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

_HIDDEN = Text("")


@lru_cache(maxsize=256)
def _style(definition: str | Style, base: Style) -> Style:
    parsed = definition if isinstance(definition, Style) else Style.parse(definition or "none")
    return base + parsed


def _cell_segments(
    cell: Text, width: int, justify: str, base: Style, console: Console
) -> list[Segment]:
    """A cell as segments exactly ``width`` cells wide (ellipsis when cut)."""
    plain = cell.plain
    if cell.spans:  # several styles: let Rich lay it out
        text = cell.copy()
        text.no_wrap = True
        text.end = ""
        text.truncate(width, overflow="ellipsis")
        pad = width - text.cell_len
        if justify == "right":
            text.pad_left(pad)
        else:
            text.pad_right(pad)
        return [
            Segment(segment.text, base + segment.style if segment.style else base)
            for segment in text.render(console)
        ]
    length = cell_len(plain)
    if length > width:
        plain = set_cell_size(plain, width - 1) + "…" if width > 1 else "…"[:width]
        length = width
    padding = " " * (width - length)
    plain = padding + plain if justify == "right" else plain + padding
    return [Segment(plain, _style(cell.style, base))]


class RowSource(Protocol):
    generation: int

    def __len__(self) -> int: ...

    def row(self, index: int) -> dict[str, Any] | None: ...


class _Empty:
    generation = -1

    def __len__(self) -> int:
        return 0

    def row(self, index: int) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``width`` > 0 is fixed; 0 makes it flexible: never narrower than
    ``min``. Room is handed out in ``grow`` order (the finding's title first), twice:
    first up to each column's ``comfort``, then up to its ``ideal`` (the widest value
    in the data, capped at ``max``); what is left is spread over them. When the
    minimums do not leave the first column its ``comfort``, columns with a ``drop``
    rank are hidden, highest first. ``optional`` columns are hidden while no row has
    a value for them."""

    key: str  # sort key, and the key of the source's measured widths
    label: str
    width: int
    render: Callable[[dict[str, Any]], Text]
    justify: str = "left"
    min: int = 6
    max: int = 80
    grow: int = 9
    drop: int = 0
    optional: bool = False
    comfort: int = 12


def layout(columns: list[Column], width: int, ideals: dict[str, int]) -> list[int]:
    """Column widths (0 = hidden) for a table ``width`` cells wide; ``ideals`` maps a
    column key to the widest value it holds (missing: unknown, assume ``max``)."""

    def ideal(column: Column) -> int:
        measured = ideals.get(column.key, column.max)
        return max(len(column.label), min(column.max, measured), column.min)

    shown = [
        column for column in columns if not (column.optional and ideals.get(column.key, 1) == 0)
    ]
    flexible = sorted((c for c in shown if not c.width), key=lambda c: c.grow)

    def spare(visible: list[Column]) -> int:
        used = sum(c.width or c.min for c in visible) + len(visible) - 1
        return width - used

    first = flexible[0] if flexible else None
    while first is not None:
        wanted = min(ideal(first), first.comfort) - first.min
        droppable = [c for c in shown if c.drop]
        if spare(shown) >= wanted or not droppable:
            break
        worst = max(droppable, key=lambda c: (c.drop, shown.index(c)))
        shown.remove(worst)
    room = max(0, spare(shown))
    widths = {c.key: c.width or c.min for c in shown}
    growing = [c for c in flexible if c in shown]
    for limit in (lambda c: min(ideal(c), c.comfort), ideal):
        for column in growing:
            extra = max(0, min(room, limit(column) - widths[column.key]))
            widths[column.key] += extra
            room -= extra
    if growing and room > 0:  # spread what is left, the first columns first
        share, extra = divmod(room, len(growing))
        for number, column in enumerate(growing):
            widths[column.key] += share + (1 if number < extra else 0)
    return [widths.get(column.key, 0) if column in shown else 0 for column in columns]


class VirtualTable(ScrollView, can_focus=True):
    """A table of rows from a :class:`RowSource`, with a cursor row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # k9s hands: j/k move, g/G go to the first/last row, ctrl+f/ctrl+b page.
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vtable--header",
        "vtable--cursor",
        "vtable--empty",
    }
    DEFAULT_CSS = """
    VirtualTable {
        overflow-x: hidden;
        overflow-y: scroll;
    }
    VirtualTable > .vtable--header { text-style: bold; color: $primary; }
    VirtualTable > .vtable--cursor { background: $surface-lighten-1; }
    VirtualTable:focus > .vtable--cursor { background: $block-cursor-blurred-background; }
    VirtualTable > .vtable--empty { color: $text-muted; text-style: italic; }
    """

    cursor = reactive(0, always_update=False, init=False)

    class Highlighted(Message):
        """The cursor moved to another row. Bursts merge into the last one."""

        def __init__(self, table: VirtualTable, index: int, row: dict[str, Any] | None):
            super().__init__()
            self.table = table
            self.index = index
            self.row = row

        @property
        def control(self) -> VirtualTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, VirtualTable.Highlighted) and message.table is self.table

    def __init__(
        self,
        columns: list[Column],
        *,
        empty: str = "nothing to show",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns
        self.source: RowSource = _Empty()
        self.empty_message = empty
        self.sort_key: str | None = None
        self.sort_descending = True
        self._lines: OrderedDict[tuple, Strip] = OrderedDict()
        self._widths: tuple[tuple[int, int, int], list[int]] | None = None
        # When rows were painted (for the benchmark's "to repaint" timings).
        self.painted_at = 0.0
        self.paints = 0
        self.paint_times: deque[float] = deque(maxlen=32)

    # -- data ----------------------------------------------------------------------------

    def set_source(self, source: RowSource, *, keep: Callable[[Any], int | None] | None = None):
        """Show another row source; ``keep`` maps it to the index to put the cursor on."""
        self.source = source
        self._lines.clear()
        count = len(source)
        self._set_virtual_height(count + 1)
        index = keep(source) if keep is not None else None
        target = min(index if index is not None else self.cursor, max(count - 1, 0))
        self.set_reactive(VirtualTable.cursor, target)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor, self.current_row))

    def _set_virtual_height(self, height: int) -> None:
        """Resize the scrollable area without a new screen layout: the vertical
        scrollbar is always shown (overflow-y: scroll), so no width changes and only
        this widget and its scrollbar repaint. Setting ``virtual_size`` the usual way
        costs a layout pass and two more frames before the rows show (~40 ms)."""
        size = Size(self.scrollable_content_region.width, height)
        if size == self.virtual_size:
            return
        if self.is_mounted and self.styles.overflow_y == "scroll":
            self.set_reactive(VirtualTable.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def set_columns(self, columns: list[Column]) -> None:
        """Show other columns (the governance table switches between controls and a
        framework's requirements); call :meth:`set_source` after."""
        self.columns = columns
        self._widths = None
        self._lines.clear()
        self.refresh()

    def set_sort(self, key: str | None, descending: bool) -> None:
        self.sort_key = key
        self.sort_descending = descending
        self._lines.clear()
        self.refresh()

    @property
    def current_row(self) -> dict[str, Any] | None:
        return self.source.row(self.cursor) if len(self.source) else None

    @property
    def row_count(self) -> int:
        return len(self.source)

    # -- cursor --------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.source) - 1)) if len(self.source) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self, new, self.current_row))

    def _refresh_row(self, index: int) -> None:
        self.refresh_line(index + 1)  # virtual line: rows start under the header

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_offset.y)
        page = self._page
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_page_down(self) -> None:
        page = self._page
        self.scroll_to(y=self.scroll_offset.y + page, animate=False, immediate=True)
        self.cursor += page

    def action_page_up(self) -> None:
        page = self._page
        self.scroll_to(y=max(0, self.scroll_offset.y - page), animate=False, immediate=True)
        self.cursor -= page

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.source) - 1

    async def _on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.cursor = int(self.scroll_offset.y) + event.y - 1
            self.focus()

    # -- rendering -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.source) + 1)

    def _column_widths(self, width: int) -> list[int]:
        key = (width, self.source.generation, id(self.source))
        if self._widths is not None and self._widths[0] == key:
            return self._widths[1]
        widths = layout(self.columns, width, self._measure())
        self._widths = (key, widths)
        return widths

    def _measure(self) -> dict[str, int]:
        """The widest value of each column: from the source when it can say (the
        finding tables know per view, from SQL), else measured on every row of a
        small source; a big source that cannot say leaves columns at their caps."""
        measured = getattr(self.source, "widths", None)
        if callable(measured):
            return measured()
        if len(self.source) > 2000:
            return {}
        ideals: dict[str, int] = {}
        for index in range(len(self.source)):
            row = self.source.row(index)
            if row is None:
                continue
            for column in self.columns:
                if not column.width:
                    size = cell_len(column.render(row).plain)
                    ideals[column.key] = max(ideals.get(column.key, 0), size)
                elif column.optional and column.render(row).plain:
                    ideals[column.key] = column.width
        for column in self.columns:
            if column.optional:
                ideals.setdefault(column.key, 0)
        return ideals

    def _line(self, cells: list[Text], widths: list[int], width: int, base: Style) -> Strip:
        """One table line, built straight into segments (a line is rendered for every
        row that scrolls into view, so this avoids Rich's general text layout)."""
        console = self.app.console
        segments: list[Segment] = []
        used = 0
        gap = Segment(" ", base)
        first = True
        for cell, column, cell_width in zip(cells, self.columns, widths, strict=True):
            if not cell_width:
                continue  # hidden at this width
            if not first:
                segments.append(gap)
                used += 1
            first = False
            pieces = _cell_segments(cell, cell_width, column.justify, base, console)
            segments.extend(pieces)
            used += cell_width
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        elif used > width:
            return Strip(segments).crop(0, width)
        return Strip(segments, width)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("vtable--header")
        cells = []
        for column in self.columns:
            label = column.label
            if column.key == self.sort_key:
                label += " ↓" if self.sort_descending else " ↑"
            cells.append(Text(label))
        return self._line(cells, self._column_widths(width), width, self.rich_style + style)

    def first_paint_after(self, moment: float) -> float | None:
        """When rows were first painted after ``moment`` (perf_counter), if they were."""
        return next((t for t in self.paint_times if t > moment), None)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if len(self.source):
            self.painted_at = time.perf_counter()
            self.paint_times.append(self.painted_at)
            self.paints += 1
        return lines

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width)
        index = int(self.scroll_offset.y) + y - 1
        count = len(self.source)
        if count == 0:
            if y == 1:
                empty = self.get_component_rich_style("vtable--empty")
                return Strip([Segment(f" {self.empty_message}", base + empty)]).adjust_cell_length(
                    width, base
                )
            return Strip.blank(width, base)
        if index >= count:
            return Strip.blank(width, base)
        key = (index, width, self.source.generation, id(self.source))
        strip = self._lines.get(key)
        if strip is None:
            row = self.source.row(index)
            if row is None:
                return Strip.blank(width, base)
            widths = self._column_widths(width)
            cells = [
                column.render(row) if size else _HIDDEN
                for column, size in zip(self.columns, widths, strict=True)
            ]
            strip = self._line(cells, widths, width, base)
            self._lines[key] = strip
            if len(self._lines) > 1000:
                self._lines.popitem(last=False)
        else:
            self._lines.move_to_end(key)
        if index == self.cursor:
            strip = self._with_cursor(strip, base)
        return strip

    def _with_cursor(self, strip: Strip, base: Style) -> Strip:
        """The cursor row: the cursor background wherever the row has the table's own
        background; cells with a background of their own (a critical badge) keep it."""
        cursor = Style(bgcolor=self.get_component_rich_style("vtable--cursor").bgcolor)
        segments = []
        for text, style, _ in strip:
            if style is None or style.bgcolor == base.bgcolor:
                style = (style or Style()) + cursor
            segments.append(Segment(text, style))
        return Strip(segments, strip.cell_length)
