"""Screens shown over a view that only read: help, the context picker (``:ctx``) and
the collected facts of a resource (``y``)."""

from __future__ import annotations

import inspect
import json
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from postureapp.store.views import FILTER_HELP, posture_score
from postureapp.tui.actions import Action
from postureapp.tui.text import safe


def docstring_markdown(doc: str) -> str:
    """A reST-flavoured docstring as Markdown: ``Foo::`` then an indented block becomes
    a fenced code block, double backticks single ones."""
    out: list[str] = []
    lines = doc.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.rstrip().endswith("::"):
            out += [line.rstrip()[:-1], "", "```"]
            index += 1
            block: list[str] = []
            while index < len(lines) and (not lines[index].strip() or lines[index][:1] == " "):
                block.append(lines[index].strip())
                index += 1
            out += [b for b in block if b] + ["```", ""]
            continue
        out.append(line.replace("``", "`"))
        index += 1
    return "\n".join(out)


def keys_table(actions: list[Action]) -> Table:
    """The keys of this screen, from the action registry (palette-only actions are in
    ctrl+p, not here)."""
    keys = Table(box=None, show_header=True, header_style="bold", expand=True)
    keys.add_column("key", style="bold cyan", no_wrap=True)
    keys.add_column("action", no_wrap=True)
    keys.add_column("what it does")
    for item in actions:
        if item.key:
            keys.add_row(Text(item.key), Text(item.title), Text(item.help))
    keys.add_row(Text("j k g G"), Text("table: move"), Text("down, up, first row, last row"))
    keys.add_row(Text("ctrl+f ctrl+b"), Text("table: page"), Text("page down, page up"))
    return keys


def help_markdown() -> str:
    """Commands, the filter language and the score definition, as Markdown."""
    from postureapp.tui.actions import COMMANDS

    commands = []
    for command in COMMANDS:
        names = " ".join(f"`:{name}`" for name in (command.name, *command.aliases))
        commands.append(f"- {names} — {command.help}")
    score = (inspect.getdoc(posture_score) or "").split("\n\nArgs:")[0]
    return "\n".join(
        [
            "## Command line ( : )",
            "A unique prefix is enough (`:end`, `:gov`); tab completes. Every action is",
            "also in the command palette (ctrl+p).",
            "",
            *commands,
            "",
            "## Filter ( / )",
            "```",
            FILTER_HELP,
            "```",
            "## Posture score",
            docstring_markdown(score),
        ]
    )


class HelpScreen(ModalScreen[None]):
    """Keys (from the action registry), commands, the filter syntax and the score
    definition, rendered as Markdown (not shown as its source)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, actions: list[Action]) -> None:
        super().__init__()
        self.actions = actions

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Label(Text("posture — help (esc closes)", "bold"))
            yield Static(keys_table(self.actions), id="help-keys")
            yield Markdown(help_markdown(), id="help-body")

    def action_close(self) -> None:
        self.dismiss(None)


class ContextPicker(ModalScreen[tuple[str | None] | None]):
    """``:ctx``: pick the context every view shows (a cluster, an account, a region,
    or all). Dismisses with ``(name,)``, ``(None,)`` for all, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    TAKES_INPUT: ClassVar[bool] = True  # keys typed ahead wait for the list (keys.py)

    def __init__(self, contexts: list[Any], current: str | None) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text.assemble(("all", "bold"), ("  every context", "dim")), id="*")]
        for number, context in enumerate(self.contexts):
            label = safe(context.name, "bold")
            label.append(f"  {context.kind} · {context.resources:,} resources", "dim")
            options.append(Option(label, id=str(number)))
        with Vertical(classes="dialog prompt"):
            yield Label(Text("Context (enter shows it in every view, esc cancels)", "bold"))
            yield OptionList(*options, id="contexts")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        names = [context.name for context in self.contexts]
        picker.highlighted = names.index(self.current) + 1 if self.current in names else 0
        self.set_focus(picker)
        self.app.release_keys()  # type: ignore[attr-defined]

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or "*"
        self.dismiss((None,) if key == "*" else (self.contexts[int(key)].name,))

    def action_cancel(self) -> None:
        self.dismiss(None)


def facts_text(resource: dict[str, Any]) -> Text:
    """A resource and its collected attrs. All of it came from outside: Text only."""
    out = Text()
    out.append_text(safe(f"{resource.get('kind')} {resource.get('name')}", "bold"))
    if resource.get("namespace"):
        out.append_text(safe(f"  ns {resource['namespace']}", "dim"))
    out.append_text(safe(f"  scope {resource.get('scope')}  ({resource.get('provider')})", "dim"))
    out.append("\n")
    out.append_text(safe(resource.get("uid"), "dim"))
    if resource.get("stale"):
        out.append("\nnot in the shown snapshot: its last known version", "yellow")
    for label, key in (("created", "created_at"), ("first seen", "first_seen")):
        if resource.get(key):
            out.append(f"\n{label} ", "dim")
            out.append_text(safe(resource[key]))
    out.append("\n\nCollected facts", "bold underline")
    out.append("  (secret values are never collected)\n", "dim")
    attrs = resource.get("attrs") or {}
    body = json.dumps(attrs, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    lines = body.split("\n")
    out.append_text(Text("\n").join(safe(line) for line in lines))
    return out


class FactsView(ModalScreen[None]):
    """What the collectors read about one resource (k9s's ``y``), escaped."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("y", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("j", "scroll('down')", show=False),
        Binding("k", "scroll('up')", show=False),
        Binding("g", "scroll('home')", show=False),
        Binding("G", "scroll('end')", show=False),
    ]

    def __init__(self, resource: dict[str, Any]) -> None:
        super().__init__()
        self.resource = resource

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="facts"):
            yield Label(Text("Resource (esc or y closes)", "bold"))
            yield Static(facts_text(self.resource), id="facts-body")

    def action_scroll(self, where: str) -> None:
        box = self.query_one("#facts", VerticalScroll)
        {
            "down": box.scroll_down,
            "up": box.scroll_up,
            "home": box.scroll_home,
            "end": box.scroll_end,
        }[where]()

    def action_close(self) -> None:
        self.dismiss(None)
