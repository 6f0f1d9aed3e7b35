"""A one-line status bar whose updates repaint only itself.

``Static.update`` asks for a new layout of the whole screen (its size may change);
a bar of fixed height does not need that, and the filter bar changes on every
keystroke."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextBar(Widget):
    DEFAULT_CSS = """
    TextBar { height: 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = Text()

    def show(self, text: Text) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> Text:
        return self.text
