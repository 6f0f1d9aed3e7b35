"""The k9s-style ``:`` command line, composed (hidden) into every dashboard screen so
that it exists before the key that opens it is handled (see ``postureapp.tui.keys``)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Static

from postureapp.tui.keys import LineInput


class CommandLine(Vertical):
    """``:`` then a view, ``ctx [name]``, ``res``, ``iso``/``soc2``/``cis``, ``q``."""

    DEFAULT_CSS = """
    CommandLine { display: none; height: auto; }
    CommandLine.-open { display: block; }
    CommandLine > LineInput { border: tall $accent; height: 3; }
    CommandLine > .command-error { height: auto; padding: 0 1; display: none; }
    CommandLine > .command-error.-visible { display: block; }
    """

    def __init__(self, words: Iterable[str], placeholder: str) -> None:
        super().__init__()
        self.words = list(words)
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield LineInput(
            placeholder=self.placeholder,
            suggester=SuggestFromList(self.words, case_sensitive=False),
            id="command",
        )
        yield Static(id="command-error", classes="command-error")

    @property
    def input(self) -> LineInput:
        return self.query_one("#command", LineInput)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> LineInput:
        self.show_error("")
        line = self.input
        line.value = ""
        self.add_class("-open")
        return line

    def close(self) -> None:
        self.remove_class("-open")
        self.show_error("")

    def show_error(self, message: str) -> None:
        error = self.query_one("#command-error", Static)
        error.update(Text(message, "bold red") if message else "")
        error.set_class(bool(message), "-visible")
