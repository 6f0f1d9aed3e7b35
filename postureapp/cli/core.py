"""The commands about snapshots themselves: ``collect``, ``diff``, ``checks``, ``config``."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click

from postureapp.cli.common import (
    command,
    pick_snapshot,
    severity_type,
    state,
)
from postureapp.cli.fleet import collecting_to, narrow, part_label, part_options
from postureapp.cli.group import cli, printable
from postureapp.cli.targets import resolve, target_options
from postureapp.dates import parse_age
from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, PostureError
from postureapp.model import SnapshotStatus, View, isoformat, utcnow

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
@part_options
def collect_command(fail_on, allow_partial, target_names, shard, part, **targets) -> None:
    """Poll every target once and write a snapshot to the cache.

    \b
    Examples:
      posture collect --context prod-eu --profile prod --region eu-west-1
      posture collect --from ./dumps/          # kubectl get ... -o json files
      posture collect --context prod-eu --probe   # and probe what it exposes
      posture collect --all-contexts             # every kube context, concurrently
      posture collect --profile prod --organization --region eu-west-1
      posture collect --all-contexts --target prod-eu --part ./parts
    """
    from postureapp.poll import run_poll

    config = state().config
    # Bad input (a malformed dump, an unknown region, nothing to poll) fails here,
    # before the cache is touched.
    resolved = narrow(resolve(config, **targets), target_names, shard)
    with collecting_to(part, part_label(resolved, shard)) as store:
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
                f"  {run.collector} {printable(run.target)}: {run.status.value}: "
                f"{printable(run.error)}",
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
                f"  {row['severity']:<8} {row['check_id']}  {printable(row['resource_uid'])}"
                f"  {row['previous_status']} -> {row['status']}{extra}"
            )


def _parse_age(text: str) -> timedelta:
    try:
        return parse_age(text)
    except ValueError:
        raise PostureError(
            f"--since {printable(text)!r}: use a positive whole number and m, h, d or w "
            "(30m, 24h, 7d, 2w)"
        ) from None


def _oldest(store):
    return store.snapshots()[-1]


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
    present = config.path is not None and config.path.exists()
    click.echo(f"config file: {config.path}" + ("" if present else " (absent)"))
    width = max(len(row["key"]) for row in rows)
    for row in rows:
        click.echo(f"{row['key']:<{width}}  {json.dumps(row['value']):<28}  {row['source']}")
