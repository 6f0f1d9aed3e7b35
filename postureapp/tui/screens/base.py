"""What every dashboard screen shares: the status header, the footer, and refreshing
from the store only when the data changed since the screen last looked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from postureapp.tui.actions import WRITE_ACTIONS
from postureapp.tui.widgets.header import StatusHeader

if TYPE_CHECKING:
    from postureapp.tui.app import PostureApp


class DashboardScreen(Screen):
    VIEW: ClassVar[str] = ""
    ACTION_SCOPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.seen_generation = -1

    @property
    def posture(self) -> PostureApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.sync()

    def on_screen_resume(self) -> None:
        request = self.posture.take_request(self.VIEW)
        self.sync()
        if request:
            self.apply_request(**request)
        for header in self.query(StatusHeader):
            header.refresh()

    def sync(self, force: bool = False) -> None:
        """Reload from the store if the data changed since this screen last did."""
        if force or self.seen_generation != self.posture.data_generation:
            self.seen_generation = self.posture.data_generation
            self.refresh_data()

    def refresh_data(self) -> None:
        """Read what this screen shows from ``self.posture.queries``."""

    def apply_request(self, filter_text: str | None = None, focus_fid: Any = None) -> None:
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
