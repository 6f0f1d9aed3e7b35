"""The base an app mixin type-checks against (:class:`~postureapp.tui.graphs.GraphMixin`).

A mixin runs as part of :class:`~postureapp.tui.app.PostureApp`, a Textual ``App``, and
calls its methods on ``self``. At run time its base is plain ``object`` (the MRO stays
as it was); the type checker sees an ``App`` with the methods PostureApp adds, so those
calls are checked rather than unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    class AppMixin(App[None]):
        def _sync_screens(self) -> None:
            """Refresh the shown dashboard screen (PostureApp's)."""

else:
    AppMixin = object
