"""The one registry of dashboard actions: key bindings and the command palette are both
generated from it, so a key and its palette entry cannot drift apart.

Palette titles follow "area: verb thing" ("view: open identities", "poll: now").
``scope`` says where an action applies: ``app`` everywhere, otherwise only on screens
whose ``ACTION_SCOPES`` include it (the action then runs on the screen).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


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

VIEWS = ("overview", "identities", "endpoints", "secrets", "governance", "changes")

ACTIONS: tuple[Action, ...] = (
    # -- everywhere ----------------------------------------------------------------------
    Action("jump", "view: jump to…", "Prompt for a view name (k9s ':')", ":", "View"),
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
        "filter", "table: filter", "Filter rows (free text, sev:, ns:, ...)", "/", "Filter", "table"
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
        "j",
        "Related",
        "findings",
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
        "attest",
        "governance: record attestation",
        "Who vouched for a control, and until when",
        "a",
        "Attest",
        "governance",
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


def bindings(scope: str) -> list[Binding]:
    """Key bindings for one scope, generated from :data:`ACTIONS`."""
    result = []
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
