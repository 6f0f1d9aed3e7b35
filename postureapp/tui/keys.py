"""Keys typed ahead are never lost, nor sent to the wrong widget.

A terminal delivers a burst (``:endpoints⏎/sev:critical⏎``, a paste, keys typed while
the dashboard was busy reloading) as key events queued on the app, which Textual hands
one by one to the focused widget's *own* queue. Anything that changes focus later than
"now" — a screen still mounting, ``Widget.focus()`` (deferred), an input submitted in
its own task — lets the keys behind it land on the old widget. Three rules close that:

1. **Opening an input is synchronous.** ``:`` and ``/`` are priority bindings, run by
   the app in arrival order; they show and focus (``Screen.set_focus``, immediate) an
   input that is already mounted: every dashboard screen composes its command line,
   every table its filter.
   Any other binding also runs as its key arrives (not after the key has gone
   through the focused widget's queue), so a key that opens a form starts rule 3
   before the keys behind it are handed out.
2. **The app edits a focused line input itself**, key by key, in arrival order, and
   runs its screen's submit or cancel at once on enter or escape, so the characters
   typed before an enter are always in the value it acts on.
3. **While a screen is switched or a form opened, keys are held**, then replayed in
   order once the new screen has its focus (it calls :meth:`KeyRouter.release_keys`).
   A timer releases them anyway should a screen never say so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, TextArea


def _input_actions() -> dict[str, str]:
    actions: dict[str, str] = {}
    for binding in Input.BINDINGS:
        if isinstance(binding, Binding):
            for key in binding.key.split(","):
                actions.setdefault(key.strip(), binding.action)
    return actions


class LineInput(Input):
    """A one-line input that the app edits synchronously (rule 2). Its screen must
    implement ``line_submitted(input)`` and ``line_cancelled(input)``."""

    ACTIONS: ClassVar[dict[str, str]] = _input_actions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Focus arrives as an event after keys typed ahead were inserted; selecting
        # all on it would make the next key replace them.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)


class KeyRouter:
    """Mixin of the app: routes key events by the rules above."""

    HOLD_TIMEOUT: ClassVar[float] = 2.0
    _held: list[events.Key] | None = None
    _hold_timer: Timer | None = None
    _release_pending: bool = False

    # -- holding -------------------------------------------------------------------------

    def hold_keys(self) -> None:
        """Queue keys from now until :meth:`release_keys` (a screen is changing)."""
        app: Any = self
        if self._held is None:
            self._held = []
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = app.set_timer(self.HOLD_TIMEOUT, self.release_keys)

    def release_keys(self) -> None:
        """Replay the held keys, in order, after anything already queued on the app."""
        if self._held is None or self._release_pending:
            return
        self._release_pending = True
        app: Any = self
        app.call_later(self._replay_held)

    @property
    def holding_keys(self) -> bool:
        return self._held is not None

    async def _replay_held(self) -> None:
        self._release_pending = False
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        keys, self._held = self._held or [], None
        for index, event in enumerate(keys):
            await self._route_key(event)
            if self._held is not None:  # that key switched screens again: hold the rest
                self._held[:0] = keys[index + 1 :]
                return

    # -- routing -------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            app: Any = self
            if not app.app_focus:
                # Textual's own handler, which these keys bypass, does this: a key means
                # the app has focus again (a browser tab reports blur), and the footer
                # draws no bindings while the app believes it is unfocused.
                app.app_focus = True
            if self._held is not None:
                self._held.append(event)
                return
            await self._route_key(event)
            return
        if isinstance(event, events.Paste) and not event.is_forwarded:
            line = self._line_input()
            if line is not None and event.text:
                line.insert_text_at_cursor(event.text.splitlines()[0])
                self._edited(line)
                return
        await super().on_event(event)  # type: ignore[misc]

    def _line_input(self) -> LineInput | None:
        app: Any = self
        screen: Screen = app.screen
        focused = screen.focused
        return focused if isinstance(focused, LineInput) else None

    async def _route_key(self, event: events.Key) -> None:
        app: Any = self
        line = self._line_input()
        if line is None:
            focused = app.screen.focused
            # A binding runs now, in key order, rather than after the key has travelled
            # through the focused widget's queue, so that a key opening a form ("w")
            # starts holding the keys behind it before they are handed out. Text fields
            # see their keys first, as always (a "t" typed in a form is a "t").
            if not isinstance(focused, Input | TextArea) and (
                await app._check_bindings(event.key, priority=True)
                or await app._check_bindings(event.key)
            ):
                return
            await super().on_event(event)  # type: ignore[misc]
            return
        if await app._check_bindings(event.key, priority=True):
            return  # ctrl+q and the like still work while typing
        screen: Any = line.screen
        if event.key == "enter":
            screen.line_submitted(line)
        elif event.key == "escape":
            screen.line_cancelled(line)
        elif event.key == "tab":
            await app.run_action("cursor_right" if line.cursor_at_end else "end", line)
        elif (action := LineInput.ACTIONS.get(event.key)) is not None:
            await app.run_action(action, line)
            self._edited(line)
        elif event.is_printable and event.character:
            start, end = line.selection
            if start == end:
                line.insert_text_at_cursor(event.character)
            else:
                line.replace(event.character, *line.selection)
            self._edited(line)
        # anything else (up, page down...) means nothing on a one-line input

    def _edited(self, line: LineInput) -> None:
        edited = getattr(line.screen, "line_edited", None)
        if edited is not None:
            edited(line)
