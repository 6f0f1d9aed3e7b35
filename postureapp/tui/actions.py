"""The one registry of dashboard actions: key bindings and the command palette are both
generated from it, so a key and its palette entry cannot drift apart.

Palette titles follow "area: verb thing" ("view: open identities", "poll: now").
``scope`` says where an action applies: ``app`` everywhere, otherwise only on screens
whose ``ACTION_SCOPES`` include it (the action then runs on the screen).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Action:
    action: str  # Textual action string, run on the app (scope "app") or the screen
    title: str  # palette entry, "area: verb thing"
    help: str  # one line, in the palette and the help screen
    key: str | None = None  # binding, if any ("" or None: palette only)
    label: str = ""  # footer label (shown in the footer when set)
    scope: str = "app"
    priority: bool = False


# The actions that write to the cache: hidden and refused when the app's
# ``allow_write`` is off (a dashboard served read-only to a browser).
WRITE_ACTIONS = frozenset({"waive", "note", "attest"})

# "resources" stays last: the command line names it apart (``:res``).
VIEWS = (
    "overview",
    "identities",
    "endpoints",
    "secrets",
    "governance",
    "changes",
    "fleet",
    "resources",
)

ACTIONS: tuple[Action, ...] = (
    # -- everywhere ----------------------------------------------------------------------
    Action(
        "jump",
        "view: command line…",
        "A view, ctx [name], res, iso, soc2, cis or q (k9s ':'; tab completes)",
        ":",
        "Command",
        priority=True,
    ),
    Action("pick_context", "context: switch…", "Show one context or account, or all", "", ""),
    *(
        Action(
            f"switch_view('{view}')",
            f"view: open {view}",
            f"Show the {view} view",
        )
        for view in VIEWS
    ),
    Action("back", "view: back", "Close the pane, clear the filter, or go back", "escape"),
    Action("help", "app: show help", "Keys, filter syntax and the score definition", "?", "Help"),
    Action("poll_now", "poll: now", "Start a poll now (not while one runs)", "r", "Poll"),
    Action(
        "toggle_pause", "poll: pause or resume", "Pause or resume scheduled polls", "p", "Pause"
    ),
    Action(
        "toggle_probe",
        "poll: toggle endpoint probes",
        "Probe the discovered endpoints from outside on the next polls (opt-in)",
        "P",
    ),
    Action("toggle_theme", "app: toggle dark/light theme", "Switch between dark and light", "t"),
    Action("command_palette", "app: command palette", "Search every action", "ctrl+p"),
    Action("quit", "app: quit", "Leave the dashboard", "ctrl+q", "Quit", priority=True),
    # -- finding tables ------------------------------------------------------------------
    Action(
        "filter",
        "table: filter",
        "Filter rows (words, -word, sev:, ns:, ...)",
        "/",
        "Filter",
        "table",
        priority=True,
    ),
    Action(
        "cycle_sort", "table: sort by next column", "Cycle the sort column", "s", "Sort", "table"
    ),
    Action("reverse_sort", "table: reverse sort", "Flip the sort direction", "S", "", "table"),
    Action(
        "toggle_waived",
        "findings: show or hide waived",
        "Waived findings are hidden by default",
        "W",
        "Waived",
        "findings",
    ),
    Action(
        "toggle_fold",
        "findings: fold by root cause",
        "One row per root cause (a binding, a group policy, a mesh, a published Service)",
        "z",
        "",
        "findings",
    ),
    Action(
        "details",
        "findings: open details",
        "Evidence, remediation, history",
        "enter",
        "",
        "findings",
    ),
    Action(
        "waive",
        "findings: waive",
        "Accept the risk: reason, owner, ticket, expiry",
        "w",
        "Waive",
        "findings",
    ),
    Action("note", "findings: add note", "Attach a note to the finding", "n", "Note", "findings"),
    Action(
        "copy_markdown",
        "findings: copy as Markdown",
        "For an incident ticket",
        "c",
        "Copy",
        "findings",
    ),
    Action(
        "related",
        "findings: jump to related",
        "Resources linked to this one",
        "o",
        "Related",
        "findings",
    ),
    Action(
        "facts",
        "resource: show collected facts",
        "What the collectors read about the highlighted resource (k9s 'y')",
        "y",
        "Facts",
        "resource",
    ),
    Action(
        "findings",
        "resources: show findings",
        "The findings on the highlighted resource",
        "enter",
        "",
        "resources",
    ),
    Action(
        "blast",
        "findings: show blast radius",
        "From this resource: what reaches it from the internet, what it can reach",
        "b",
        "Blast",
        "findings",
    ),
    Action(
        "details",
        "overview: open top risk",
        "Show the highlighted risk in its view",
        "enter",
        "",
        "overview",
    ),
    # -- governance ----------------------------------------------------------------------
    Action(
        "details",
        "governance: list failing findings",
        "The failing findings of the highlighted control or requirement",
        "enter",
        "",
        "governance",
    ),
    Action(
        "next_framework",
        "governance: by control or framework",
        "Cycle: controls, ISO 27001:2022, SOC 2, CIS, AWS FSBP",
        "f",
        "Framework",
        "governance",
    ),
    Action(
        "attest",
        "governance: record attestation",
        "Who vouched for a control, and until when",
        "a",
        "Attest",
        "governance",
    ),
    # -- fleet ---------------------------------------------------------------------------
    Action(
        "details",
        "fleet: open target or cell",
        "On a target: show only it, from its overview; on a cell: that view of that target",
        "enter",
        "",
        "fleet",
    ),
    Action(
        "next_mode",
        "fleet: by view or by control",
        "Switch the matrix: targets x views, or targets x governance controls",
        "f",
        "Mode",
        "fleet",
    ),
    # -- changes -------------------------------------------------------------------------
    Action(
        "details",
        "changes: open finding",
        "Show the finding in its view",
        "enter",
        "",
        "changes",
    ),
    Action(
        "since_previous",
        "changes: since previous snapshot",
        "Compare with the snapshot before",
        "1",
        "Previous",
        "changes",
    ),
    Action(
        "since_hours(24)",
        "changes: last 24 h",
        "Compare with the snapshot of 24 h ago",
        "2",
        "24 h",
        "changes",
    ),
    Action(
        "since_hours(168)",
        "changes: last 7 d",
        "Compare with the snapshot of 7 days ago",
        "3",
        "7 d",
        "changes",
    ),
    Action(
        "compare",
        "changes: compare two snapshots",
        "Pick any two retained snapshots by id",
        "b",
        "Between",
        "changes",
    ),
)


def bindings(scope: str) -> list[BindingType]:
    """Key bindings for one scope, generated from :data:`ACTIONS`."""
    # Typed as Textual types BINDINGS (a list is invariant), so screens assign it as is.
    result: list[BindingType] = []
    for item in ACTIONS:
        if item.scope != scope or not item.key or item.action == "command_palette":
            continue
        result.append(
            Binding(
                item.key,
                item.action,
                item.label or item.title.split(": ", 1)[-1],
                show=bool(item.label),
                priority=item.priority,
                tooltip=item.help,
            )
        )
    return result


def for_scopes(scopes: tuple[str, ...]) -> list[Action]:
    return [item for item in ACTIONS if item.scope == "app" or item.scope in scopes]


# -- the ':' command line ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    aliases: tuple[str, ...] = ()


FILTERED = ("identities", "endpoints", "secrets")
COMMANDS: tuple[Command, ...] = (
    *(
        Command(
            view,
            f"show the {view} view"
            + (f" (:{view} FILTER opens it filtered)" if view in FILTERED else ""),
        )
        for view in VIEWS[:-2]
    ),
    Command(
        "fleet",
        "every target (cluster, AWS account) side by side: health, data age, failing"
        " findings by view; f: by governance control",
    ),
    Command(
        "resources",
        "every collected resource, with or without findings (:res FILTER too)",
        ("res",),
    ),
    Command("ctx", "show one context or account (ctx NAME, ctx all); alone, a list", ("context",)),
    Command("iso", "governance by ISO 27001:2022 requirement"),
    Command("soc2", "governance by SOC 2 criterion"),
    Command("cis", "governance by CIS benchmark item"),
    Command("fsbp", "governance by AWS Foundational Security Best Practices control"),
    Command("quit", "leave the dashboard", ("q",)),
)


def resolve_command(text: str) -> tuple[Command | None, str, str]:
    """``(command, argument, error)`` for what was typed after ``:``: a command's name
    or alias, or a prefix of exactly one name (``gov``, ``end``)."""
    word, _, argument = text.strip().lstrip(":").strip().partition(" ")
    word, argument = word.lower(), argument.strip()
    if not word:
        return None, "", "type a command (views: " + ", ".join(VIEWS) + "; tab completes)"
    for command in COMMANDS:
        if word == command.name or word in command.aliases:
            return command, argument, ""
    matches = [command for command in COMMANDS if command.name.startswith(word)]
    if len(matches) == 1:
        return matches[0], argument, ""
    names = ", ".join(command.name for command in (matches or COMMANDS))
    problem = f"ambiguous {word!r}: {names}" if matches else f"no view {word!r} (try {names})"
    return None, "", problem


def command_words() -> list[str]:
    """What tab can complete to, longest first so a prefix completes to a name."""
    return [command.name for command in COMMANDS]
