"""Moving around the dashboard: views, the ``:`` command line, the context shown,
and the screens pushed over a view (facts, a control's findings, help).

A mixin of :class:`~postureapp.tui.app.PostureApp`. Every switch of screen holds the
keys typed behind it until the new screen has its focus (``postureapp.tui.keys``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.screen import Screen

from postureapp.tui.actions import VIEWS, for_scopes, resolve_command
from postureapp.tui.screens.base import DashboardScreen

# :iso, :soc2, :cis, :fsbp -> the governance screen's framework
FRAMEWORK_COMMANDS = {
    "iso": "ISO 27001:2022",
    "soc2": "SOC 2",
    "cis": "CIS",
    "fsbp": "AWS FSBP",
}


class NavigationMixin:
    """Needs the app's ``queries``, ``_history``, ``_pending`` and mode switching."""

    _history: list[str]
    _pending: dict[str, dict[str, Any]]

    # -- screens ---------------------------------------------------------------------------

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """Push a screen; one that takes typed input holds the keys typed behind it
        until its input has the focus (it calls ``release_keys`` then)."""
        app: Any = self
        if getattr(screen, "TAKES_INPUT", False):
            app.hold_keys()
        return super().push_screen(screen, *args, **kwargs)  # type: ignore[misc]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "jump":  # ':' is a priority binding: text while typing
            screen = self._current_screen()
            return isinstance(screen, DashboardScreen) and screen.is_mounted and not screen.typing()
        return True

    def _current_screen(self) -> Screen:
        app: Any = self
        return app.screen

    def switch_view(
        self,
        view: str,
        *,
        filter_text: str | None = None,
        focus_fid: int | None = None,
        **options: Any,
    ) -> None:
        """Show ``view``; optionally set its filter and put the cursor on a finding
        (``options`` go to the screen's ``apply_request`` too: a framework)."""
        app: Any = self
        if view not in VIEWS:
            app.notify(f"no view {view!r}", severity="error", markup=False)
            return
        request = {"filter_text": filter_text, "focus_fid": focus_fid, **options}
        asked = filter_text is not None or focus_fid is not None or bool(options)
        # A view pushed over this mode (a control's findings, facts) closes first.
        while len(app.screen_stack) > 1:
            app.pop_screen()
        if app.current_mode == view:
            screen = app.screen
            if isinstance(screen, DashboardScreen) and asked:
                screen.apply_request(**request)
            return
        if asked:
            self._pending[view] = request
        if app.current_mode in VIEWS:
            self._history.append(app.current_mode)
            del self._history[:-20]
        app.hold_keys()
        app.switch_mode(view)

    def take_request(self, view: str) -> dict[str, Any] | None:
        return self._pending.pop(view, None)

    def jump_to_resource(self, uid: str, fid: int | None = None) -> None:
        """Show the findings of a resource (and one finding of it, with ``fid``)."""
        app: Any = self
        views = app.queries.views_of_resource(uid)
        if fid is not None:
            row = app.queries.row(fid)
            views = [row["view"]] if row else views
        if not views:
            app.notify(f"No findings on {uid}.", markup=False)
            return
        view = app.current_mode if app.current_mode in views else views[0]
        self.switch_view(view, filter_text=f'uid:"{uid}" status:all', focus_fid=fid)

    def action_switch_view(self, view: str) -> None:
        self.switch_view(view)

    def action_jump(self) -> None:
        screen = self._current_screen()
        if isinstance(screen, DashboardScreen):
            screen.open_command_line()

    async def action_back(self) -> None:  # App.action_back is a coroutine
        app: Any = self
        screen = app.screen
        if isinstance(screen, DashboardScreen) and screen.handle_back():
            return
        if len(app.screen_stack) > 1:  # a screen pushed over the view
            app.pop_screen()
            return
        if self._history:
            app.hold_keys()
            app.switch_mode(self._history.pop())

    def action_help(self) -> None:
        from postureapp.tui.screens.overlays import HelpScreen

        app: Any = self
        scopes = getattr(app.screen, "ACTION_SCOPES", ())
        app.push_screen(HelpScreen(for_scopes(scopes)))

    # -- the command line ------------------------------------------------------------------

    def run_command(self, text: str, before: Callable[[], None] = lambda: None) -> str:
        """Run what was typed after ``:``; returns an error to show, or "" once done.
        ``before`` runs first when the command is valid (it closes the prompt)."""
        app: Any = self
        command, argument, error = resolve_command(text)
        if command is None:
            return error
        name = command.name
        if name == "ctx":
            if argument:
                chosen, problem = self.find_context(argument)
                if problem:
                    return problem
                before()
                self.set_context(chosen)
            else:
                before()
                self.action_pick_context()
            return ""
        before()
        if name == "quit":
            app.exit()
        elif name in FRAMEWORK_COMMANDS:
            self.switch_view("governance", framework=FRAMEWORK_COMMANDS[name])
        else:
            self.switch_view(name, filter_text=argument or None)
        return ""

    # -- contexts ----------------------------------------------------------------------------

    def find_context(self, typed: str) -> tuple[str | None, str]:
        """(context name or None for all, error) for what was typed after ``:ctx``."""
        app: Any = self
        wanted = typed.strip().lower()
        if wanted in ("all", "*", "-"):
            return None, ""
        names = [context.name for context in app.queries.contexts()]
        exact = [name for name in names if name.lower() == wanted]
        matches = exact or [name for name in names if name.lower().startswith(wanted)]
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, f"ambiguous context {typed!r}: {', '.join(matches)}"
        return None, f"no context {typed!r} (try all, {', '.join(names) or 'none cached'})"

    def action_pick_context(self) -> None:
        from postureapp.tui.screens.overlays import ContextPicker

        app: Any = self

        def chosen(result: tuple[str | None] | None) -> None:
            if result is not None:
                self.set_context(result[0])

        app.push_screen(ContextPicker(app.queries.contexts(), app.queries.scope), chosen)

    def set_context(self, scope: str | None) -> None:
        """Show one context (a cluster, an account, an account/region) in every view,
        or all of them (``None``)."""
        app: Any = self
        if scope == app.queries.scope:
            return
        app.queries.set_scope(scope)
        app.header_info = app.queries.header(app.targets)
        app.data_generation += 1
        app.ensure_graph()
        app._sync_screens()
        app.notify(f"Context: {scope or 'all'}", markup=False)

    # -- screens over a view -------------------------------------------------------------------

    def show_facts(self, uid: str) -> None:
        """What the collectors read about a resource (k9s's ``y``)."""
        from postureapp.tui.screens.overlays import FactsView

        app: Any = self
        resource = app.queries.browse.facts(uid)
        if resource is None:
            app.notify(f"Nothing collected about {uid}.", markup=False)
            return
        app.push_screen(FactsView(resource))

    def show_evidence(self, title: str, checks: Iterable[str]) -> None:
        """The failing findings of a set of checks (a control's, a requirement's), over
        every view, on a screen pushed over governance (escape returns)."""
        from postureapp.tui.screens.findings import FindingsScreen

        app: Any = self
        app.hold_keys()
        app.push_screen(FindingsScreen(None, checks=tuple(checks), title=title))
