"""The ``posture`` command line.

Exit codes (README, "Exit codes"): 0 ok; 1 failing findings at or above ``--fail-on``;
2 usage or input error (bad flags, bad file, bad config, unusable cache);
3 the collection failed or was partial (unless ``--allow-partial``);
4 an I/O failure (an output that cannot be written: full disk, no permission).
Every error is one line on stderr, ``posture: error: ...``, never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta

import click

from postureapp.cli.common import (
    command,
    config_option,
    db_option,
    fail,
    pick_snapshot,
    run_guarded,
    severity_type,
    state,
)
from postureapp.cli.targets import resolve, target_options
from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, EXIT_USAGE, PostureError
from postureapp.model import SnapshotStatus, View, isoformat, utcnow
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
        from postureapp.cli.dashboard import tui_command

        ctx.invoke(tui_command, offline=offline)


# -- collect -------------------------------------------------------------------------


@command(cli, "collect")
@target_options
@click.option(
    "--fail-on",
    callback=severity_type,
    metavar="SEVERITY",
    help="Exit 1 if an unwaived failing finding is at least this severe.",
)
@click.option("--allow-partial", is_flag=True, help="Exit 0 rather than 3 on a partial poll.")
def collect_command(fail_on, allow_partial, **targets) -> None:
    """Poll every target once and write a snapshot to the cache.

    \b
    Examples:
      posture collect --context prod-eu --profile prod --region eu-west-1
      posture collect --from ./dumps/          # kubectl get ... -o json files
      posture collect --context prod-eu --probe   # and probe what it exposes
    """
    from postureapp.poll import run_poll

    config = state().config
    # Bad input (a malformed dump, an unknown region, nothing to poll) fails here,
    # before the cache is touched.
    resolved = resolve(config, **targets)
    with state().store() as store:
        result = run_poll(store, config, resolved, progress_to=sys.stderr)
    summary = (
        f"snapshot {result.snapshot_id} {result.status.value}: {result.resources} resources, "
        f"{result.findings} findings in {result.seconds:.1f}s"
    )
    failing = ", ".join(f"{n} {sev}" for sev, n in _by_severity(result.failing))
    click.echo(summary + (f"; failing: {failing}" if failing else ""), err=True)
    for run in result.runs:
        if run.status.value != "ok" or run.error:
            click.echo(
                f"  {run.collector} {_printable(run.target)}: {run.status.value}: "
                f"{_printable(run.error)}",
                err=True,
            )
    # 1 wins over 3, as in the export gate: a failure seen in a partial poll is certain.
    if fail_on is not None and any(
        count and _rank(sev) >= fail_on.rank for sev, count in result.failing.items()
    ):
        sys.exit(EXIT_FINDINGS)
    if result.status is not SnapshotStatus.COMPLETE and not allow_partial:
        sys.exit(EXIT_COLLECTION)


def _rank(severity: str) -> int:
    from postureapp.model import Severity

    return Severity(severity).rank


def _by_severity(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: -_rank(item[0]))


# -- diff ----------------------------------------------------------------------------


@command(cli, "diff")
@click.argument("from_id", required=False, type=int)
@click.argument("to_id", required=False, type=int)
@click.option(
    "--since",
    metavar="AGE",
    help="Compare the latest with the snapshot this long ago (30m, 24h, 7d, 2w); the "
    "oldest one when the cache is younger.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def diff_command(from_id: int | None, to_id: int | None, since: str | None, fmt: str) -> None:
    """Findings opened, resolved and changed between two snapshots.

    With no ids: the latest snapshot against the one before it.

    \b
    Examples:
      posture diff                # since the previous poll
      posture diff 12 15
      posture diff --since 24h --format json
    """
    age = _parse_age(since) if since is not None else None
    with state().store(create=False) as store:
        latest = pick_snapshot(store, to_id)
        if age is not None:
            before = store.snapshot_before(isoformat(utcnow() - age))
            if before is None:
                before = _oldest(store)
                if before.id == latest.id:
                    raise PostureError(
                        f"only one snapshot in the cache, none {since} old; nothing to compare yet"
                    )
                click.echo(
                    f"posture: no snapshot is {since} old; comparing with the oldest, "
                    f"snapshot {before.id} of {before.finished_at or before.started_at}",
                    err=True,
                )
            from_id = before.id
        if from_id is None:
            previous = store.previous(latest.id)
            if previous is None:
                raise PostureError("only one snapshot in the cache; nothing to compare yet")
            from_id = previous.id
        try:
            result = store.diff(from_id, latest.id)
        except LookupError as error:
            raise PostureError(str(error)) from None
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=1))
        return
    click.echo(f"snapshot {result.from_id} -> {result.to_id}")
    for label, rows in (
        ("opened", result.opened),
        ("resolved", result.resolved),
        ("changed", result.changed),
    ):
        click.echo(f"{label}: {len(rows)}")
        for row in rows:
            extra = f" ({', '.join(row['fields'])})" if "fields" in row else ""
            click.echo(
                f"  {row['severity']:<8} {row['check_id']}  {_printable(row['resource_uid'])}"
                f"  {row['previous_status']} -> {row['status']}{extra}"
            )


_AGE = re.compile(r"([1-9][0-9]{0,5})([mhdw])")


def _parse_age(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    match = _AGE.fullmatch(text)
    if match is None:
        raise PostureError(
            f"--since {_printable(text)!r}: use a positive whole number and m, h, d or w "
            "(30m, 24h, 7d, 2w)"
        )
    return timedelta(**{units[match.group(2)]: int(match.group(1))})


def _oldest(store):
    return store.snapshots()[-1]


def _printable(text: str) -> str:
    """Names come from the outside world: never let them drive the terminal."""
    return escape_controls(text)


# -- checks and config ---------------------------------------------------------------


@command(cli, "checks")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--view", type=click.Choice([view.value for view in View]), help="Only checks of this view."
)
def checks_command(fmt: str, view: str | None) -> None:
    """List the check catalog: ids, severities, views, frameworks.

    \b
    Examples:
      posture checks --view endpoints
      posture checks --format json | jq '.[].id'
    """
    import postureapp.checks as catalog

    metas = sorted(catalog.REGISTRY.checks.values(), key=lambda m: (m.view, m.id))
    if view:
        metas = [m for m in metas if m.view.value == view]
    if fmt == "json":
        click.echo(json.dumps([m.to_dict() for m in metas], indent=1))
        return
    if not metas:
        click.echo("no checks registered")
        return
    width = max(len(m.id) for m in metas)
    for meta in metas:
        click.echo(
            f"{meta.id:<{width}}  {meta.severity.value:<8}  {meta.view.value:<10}  {meta.title}"
        )
    click.echo(f"{len(metas)} checks", err=True)


@command(cli, "config")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def config_command(fmt: str) -> None:
    """Print the effective configuration and where each value came from.

    \b
    Example:
      posture config --config ./posture.toml
    """
    config = state().config
    rows = config.describe()
    if fmt == "json":
        click.echo(json.dumps({"path": str(config.path), "settings": rows}, indent=1))
        return
    click.echo(f"config file: {config.path}" + ("" if config.path.exists() else " (absent)"))
    width = max(len(row["key"]) for row in rows)
    for row in rows:
        click.echo(f"{row['key']:<{width}}  {json.dumps(row['value']):<28}  {row['source']}")


def main() -> None:
    run_guarded(_main)


def _main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1, where a
    # shell script expects 130, and prints usage errors on three lines.
    try:
        code = cli.main(prog_name="posture", standalone_mode=False)
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "posture"
        message = _printable(error.format_message()).removesuffix(".")
        fail(f"{message} (see '{where} --help')", EXIT_USAGE)
    except click.ClickException as error:
        fail(_printable(error.format_message()), error.exit_code)
    except click.Abort:
        raise KeyboardInterrupt from None
    if isinstance(code, int) and code:
        sys.exit(code)


# These modules register their commands on `cli`; imported last because they import it.
from postureapp.cli import dashboard, exporting, serve, triage  # noqa: E402, F401
