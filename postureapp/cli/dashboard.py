"""``posture tui`` (the dashboard, also plain ``posture``). Kept light: the dashboard
opens from the cache alone, and this module is all the CLI imports to open it."""

from __future__ import annotations

import click

from postureapp.cli.common import command, state
from postureapp.cli.group import cli
from postureapp.cli.targets import resolve, target_options
from postureapp.errors import InputError


@command(cli, "tui")
@target_options
@click.option("--offline", is_flag=True, help="Read the cache only: no polling, no credentials.")
@click.option(
    "--interval", type=click.IntRange(10, 86400), help="Seconds between polls (default: config)."
)
def tui_command(offline: bool = False, interval: int | None = None, **targets) -> None:
    """Open the dashboard (the default when `posture` runs with no command).

    With no target named and none configured, it polls what the environment has (the
    current kube context, the default AWS credentials); with nothing at all, or with
    --offline, it shows the cache alone.

    \b
    Examples:
      posture tui --context prod-eu --interval 120
      posture tui --offline --db ~/oncall/cache.db
      posture --offline            # on call, no credentials: the cache alone
    """
    from postureapp.tui import run

    offline = offline or state().offline
    config = state().config
    resolved = None
    if not offline:
        try:
            resolved = resolve(config, **targets)
        except InputError as error:
            if "nothing to poll" not in str(error):
                raise
            click.echo("posture: nothing to poll; showing the cache alone", err=True)
    elif any(targets.values()):
        flags = {p.name: p.opts[0] for p in click.get_current_context().command.params}
        named = ", ".join(sorted(flags[name] for name, value in targets.items() if value))
        raise click.UsageError(f"--offline polls nothing: drop {named}, or --offline")
    store = state().store(create=resolved is not None)  # offline: the cache must exist
    path = store.path
    store.close()
    run(path, config=config, targets=resolved, offline=resolved is None, interval=interval)
