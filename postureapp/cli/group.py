"""The ``posture`` command group: the options every command shares, and where each
command module registers itself (``@command(cli, "name")``)."""

from __future__ import annotations

import click

from postureapp.cli.common import config_option, db_option, state
from postureapp.text import escape_controls


@click.group(
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
