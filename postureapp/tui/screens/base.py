"""What every dashboard screen shares: the status header, the ``:`` command line, the
footer, and refreshing from the store only when the data changed since the screen
last looked."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, TextArea

from postureapp.tui.actions import WRITE_ACTIONS, command_words
from postureapp.tui.host import Dashboard
from postureapp.tui.keys import LineInput
from postureapp.tui.widgets.commandline import CommandLine
from postureapp.tui.widgets.header import StatusHeader

COMMAND_PLACEHOLDER = (
    "view (identities, endpoints…) · fleet · ctx [name] · res · iso · soc2 · cis · q"
)


class DashboardScreen(Screen):
    VIEW: ClassVar[str] = ""
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ()
    # The widget that has focus when nothing else is open (the table).
    MAIN: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.seen_generation = -1
        self._before_command: Widget | None = None

    @property
    def posture(self) -> Dashboard:
        return cast(Dashboard, self.app)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield CommandLine(command_words(), COMMAND_PLACEHOLDER)
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.focus_main()
        self.sync()

    def on_screen_resume(self) -> None:
        request = self.posture.take_request(self.VIEW)
        self.sync()
        if request:
            self.apply_request(**request)
        for header in self.query(StatusHeader):
            header.refresh()
        # This screen has its focus: keys typed while it was coming up go to it now.
        self.posture.release_keys()

    def focus_main(self) -> None:
        """Focus the main widget now (``Widget.focus`` would defer it behind queued keys)."""
        if self.MAIN:
            self.set_focus(self.query_one(self.MAIN))

    def typing(self) -> bool:
        """True while a text field has the focus (single-key shortcuts are text then)."""
        return isinstance(self.focused, Input | TextArea)

    def sync(self, force: bool = False) -> None:
        """Reload from the store if the data changed since this screen last did."""
        if force or self.seen_generation != self.posture.data_generation:
            self.seen_generation = self.posture.data_generation
            self.refresh_data()

    def refresh_data(self) -> None:
        """Read what this screen shows from ``self.posture.queries``."""

    def apply_request(
        self, filter_text: str | None = None, focus_fid: Any = None, **options: Any
    ) -> None:
        """Another screen sent us here with a filter or a finding to show."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Served read-only (posture serve): the write actions leave the footer and their
        # keys and palette entries do nothing.
        if action in WRITE_ACTIONS and not self.posture.allow_write:
            return False
        return super().check_action(action, parameters)

    def handle_back(self) -> bool:
        """Undo the innermost thing open on this screen; False when nothing was."""
        return False

    # -- the command line ----------------------------------------------------------------

    @property
    def command_line(self) -> CommandLine:
        return self.query_one(CommandLine)

    def open_command_line(self) -> None:
        """Show the ``:`` prompt and focus it at once (see ``postureapp.tui.keys``)."""
        self._before_command = self.focused
        self.set_focus(self.command_line.open())

    def close_command_line(self) -> None:
        self.command_line.close()
        before = self._before_command
        self._before_command = None
        if before is not None and before.is_attached and before.display:
            self.set_focus(before)
        else:
            self.focus_main()

    def line_submitted(self, line: LineInput) -> None:
        """Enter in a line input of this screen (called by the app, in key order)."""
        if line.id == "command":
            error = self.posture.run_command(line.value, before=self.close_command_line)
            if error:
                self.command_line.show_error(error)

    def line_cancelled(self, line: LineInput) -> None:
        """Escape in a line input of this screen."""
        if line.id == "command":
            self.close_command_line()
