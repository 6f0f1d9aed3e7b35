"""What the dashboard's parts type-check against instead of importing the app.

:class:`~postureapp.tui.app.PostureApp` imports its screens, so a screen that imported
the app back would close an import circle (even one seen only by the type checker).
Screens talk to the app through :class:`Dashboard`, a protocol of exactly what they use;
``app.py`` asserts to mypy that PostureApp satisfies it, so the two cannot drift.

A mixin runs as part of PostureApp, a Textual ``App``, and calls its methods on
``self``: at run time its base :data:`AppMixin` is plain ``object`` (the MRO stays as it
was); the type checker sees an ``App`` with the methods PostureApp adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App

    from postureapp.model import Attestation, Waiver
    from postureapp.store.views import DashboardQueries, HeaderInfo

    class AppMixin(App[None]):
        def _sync_screens(self) -> None:
            """Refresh the shown dashboard screen (PostureApp's)."""

else:
    AppMixin = object


class Dashboard(Protocol):
    """The app as a dashboard screen sees it."""

    db_path: Path
    queries: DashboardQueries
    clock: Callable[[], datetime]
    user: str
    allow_write: bool
    data_generation: int
    header_info: HeaderInfo | None
    trend_points: list[tuple[int, float | None]]

    @property
    def registry(self) -> Any: ...

    def switch_view(
        self,
        view: str,
        *,
        filter_text: str | None = None,
        focus_fid: int | None = None,
        **options: Any,
    ) -> None: ...

    def take_request(self, view: str) -> dict[str, Any] | None: ...
    def set_context(self, scope: str | None) -> None: ...
    def jump_to_resource(self, uid: str, fid: int | None = None) -> None: ...
    def run_command(self, text: str, before: Callable[[], None] = ...) -> str: ...
    def release_keys(self) -> None: ...
    def show_facts(self, uid: str) -> None: ...
    def show_evidence(self, title: str, checks: Iterable[str]) -> None: ...
    def show_blast_radius(self, uid: str, title: str = "") -> None: ...
    def ensure_trend(self) -> None: ...
    def compute_diff(self, from_id: int, to_id: int, label: str) -> None: ...
    def save_waiver(self, waiver: Waiver) -> None: ...
    def save_note(self, fingerprint: str, author: str, text: str) -> None: ...
    def save_attestation(self, attestation: Attestation) -> None: ...
