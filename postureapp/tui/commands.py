"""The command palette, fed by the same action registry as the key bindings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from postureapp.tui.actions import WRITE_ACTIONS, Action, for_scopes
from postureapp.tui.text import clean


class ActionCommands(Provider):
    """Every action that applies on the screen the palette was opened from."""

    def _entries(self) -> Iterator[tuple[Action, Callable[[], object]]]:
        screen = self.screen
        scopes = getattr(screen, "ACTION_SCOPES", ())
        for item in for_scopes(scopes):
            if item.action == "command_palette":
                continue
            if item.action in WRITE_ACTIONS and not getattr(self.app, "allow_write", True):
                continue
            target = self.app if item.scope == "app" else screen
            yield item, partial(self.app.run_action, item.action, target)

    def _label(self, item: Action) -> Text:
        label = Text(item.title)
        if item.key:
            label.append(f"  {item.key}", "dim")
        return label

    async def discover(self) -> Hits:
        for item, command in self._entries():
            yield DiscoveryHit(self._label(item), command, text=item.title, help=item.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for item, command in self._entries():
            score = matcher.match(item.title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(item.title), command, text=item.title, help=item.help
                )


class ContextCommands(Provider):
    """ "context: show X" for every context of the shown snapshot, and "context: show
    all" (the palette's way to do ``:ctx NAME``)."""

    def _entries(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app: Any = self.app
        yield "context: show all", "every cluster and account", partial(app.set_context, None)
        for context in app.queries.contexts():
            yield (
                f"context: show {context.name}",
                f"{context.kind}, {context.resources:,} resources",
                partial(app.set_context, context.name),
            )

    # Context names come from outside: the palette parses a plain str (and the
    # matcher's highlight, and the help line) as markup, so they are shown as Text
    # with control characters made visible, and the help names no context.
    async def discover(self) -> Hits:
        for title, help_text, command in self._entries():
            yield DiscoveryHit(Text(clean(title)), command, text=title, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, command in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, Text(clean(title)), command, text=title, help=escape(help_text))
