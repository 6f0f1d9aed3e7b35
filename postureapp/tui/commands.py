"""The command palette, fed by the same action registry as the key bindings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from postureapp.tui.actions import WRITE_ACTIONS, Action, for_scopes


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
