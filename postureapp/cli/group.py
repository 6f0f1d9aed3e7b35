"""The ``posture`` command group: the options every command shares, and where each
command module registers itself (``@command(cli, "name")``).

The group imports a command's module only when that command runs (or ``--help`` lists
them): opening the dashboard must not pay for the exporters, the check catalog, the
collectors and their clients (boto3, kubernetes, httpx) that other commands import.
A new command module goes in :data:`COMMAND_MODULES`; a test checks the map against
what the modules register.
"""

from __future__ import annotations

import importlib

import click

from postureapp.cli.common import config_option, db_option, state
from postureapp.text import escape_controls

# command name -> the module (under postureapp.cli) that registers it
COMMAND_MODULES: dict[str, str] = {
    "attest": "triage",
    "checks": "core",
    "collect": "core",
    "config": "core",
    "demo": "demo",
    "diff": "core",
    "export": "exporting",
    "merge": "fleet",
    "note": "triage",
    "serve": "serve",
    "snapshot": "exporting",
    "tui": "dashboard",
    "waive": "triage",
    "waivers": "triage",
}


class LazyGroup(click.Group):
    """A group whose commands are registered by their modules on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"postureapp.cli.{COMMAND_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)


def load_all() -> None:
    """Register every command (for code that walks ``cli.commands``)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"postureapp.cli.{module}")


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@db_option
@config_option
@click.option(
    "--offline",
    is_flag=True,
    help="With no command: the dashboard on the cache alone (as 'posture tui --offline').",
)
@click.version_option(package_name="postureapp", prog_name="posture")
@click.pass_context
def cli(ctx: click.Context, offline: bool) -> None:
    """Security posture of Kubernetes and AWS: collect, judge, diff and export.

    Run a command with --help for its options. Exit codes: 0 ok, 1 findings at or
    above --fail-on, 2 usage or input error, 3 collection failed or partial, 4 an
    output could not be written.

    \b
    Examples:
      posture                      # the dashboard
      posture --offline            # on call, no credentials: the cache alone
    """
    if offline and ctx.invoked_subcommand not in (None, "tui"):
        raise click.UsageError(
            "--offline goes with the dashboard: 'posture --offline' or 'posture tui --offline'"
        )
    state().offline = offline
    if ctx.invoked_subcommand is None:
        # The dashboard registers itself as "tui" (postureapp.cli.dashboard).
        tui = cli.get_command(ctx, "tui")
        assert tui is not None, "postureapp.cli.dashboard registers the tui command"
        ctx.invoke(tui, offline=offline)


def printable(text: str) -> str:
    """Names come from the outside world: never let them drive the terminal."""
    return escape_controls(text)
