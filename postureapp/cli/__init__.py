"""The ``posture`` command line.

Exit codes (README, "Exit codes"): 0 ok; 1 failing findings at or above ``--fail-on``;
2 usage or input error (bad flags, bad file, bad config, unusable cache);
3 the collection failed or was partial (unless ``--allow-partial``).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from postureapp.cli.common import (
    command,
    config_option,
    db_option,
    pick_snapshot,
    run_guarded,
    severity_type,
    state,
)
from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, PostureError
from postureapp.model import SnapshotStatus, isoformat, utcnow


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@db_option
@config_option
@click.version_option(package_name="postureapp", prog_name="posture")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Security posture of Kubernetes and AWS: collect, judge, diff and export.

    Run a command with --help for its options. Exit codes: 0 ok, 1 findings at or
    above --fail-on, 2 usage or input error, 3 collection failed or partial.
    """
    if ctx.invoked_subcommand is None:
        from postureapp.cli.dashboard import tui_command

        ctx.invoke(tui_command)


# -- collect -------------------------------------------------------------------------


def target_options(function):
    """The options that name what to poll, shared by collect, snapshot and tui."""
    options = [
        click.option("--context", "contexts", multiple=True, help="Kube context (repeatable)."),
        click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Kubeconfig file."),
        click.option("--profile", "profiles", multiple=True, help="AWS profile (repeatable)."),
        click.option("--region", "regions", multiple=True, help="AWS region (repeatable)."),
        click.option("--all-regions", is_flag=True, help="Every enabled AWS region."),
        click.option(
            "--endpoint-url", help="AWS endpoint for every client (else $AWS_ENDPOINT_URL)."
        ),
        click.option(
            "--from",
            "offline",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Offline dump: kubectl -o json, aws iam get-account-authorization-details "
            "JSON, or a credential report CSV (file or directory; repeatable).",
        ),
        click.option(
            "--probe",
            is_flag=True,
            help="Also probe, from outside, the endpoints the collectors found (httpx).",
        ),
        click.option(
            "--probe-url",
            "probe_urls",
            multiple=True,
            metavar="URL",
            help="Also probe this http(s) URL (repeatable; implies --probe).",
        ),
        click.option(
            "--probe-allow-private",
            is_flag=True,
            default=None,
            help="Probe endpoints on loopback, private and link-local addresses too.",
        ),
        click.option(
            "--probe-ca-bundle",
            type=click.Path(exists=True, dir_okay=False),
            help="Extra CA certificates (PEM) the probe trusts.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def target_request(
    config,
    contexts,
    kubeconfig,
    profiles,
    regions,
    all_regions,
    endpoint_url,
    offline,
    probe=False,
    probe_urls=(),
    probe_allow_private=None,
    probe_ca_bundle=None,
):
    from postureapp.collectors.registry import TargetRequest

    probe_target = None
    if probe or probe_urls or probe_allow_private or probe_ca_bundle:
        from postureapp.collectors.probe import probe_target as build_probe

        probe_target = build_probe(
            config,
            list(probe_urls),
            allow_private=probe_allow_private or None,
            ca_bundle=probe_ca_bundle,
        )
    return TargetRequest(
        probe=probe_target,
        contexts=list(contexts) or config.get("targets.kube_contexts"),
        kubeconfig=kubeconfig or next(iter(config.get("targets.kubeconfig")), None),
        profiles=list(profiles) or config.get("targets.aws_profiles"),
        regions=list(regions) or config.get("targets.aws_regions"),
        all_regions=all_regions,
        endpoint_url=endpoint_url,
        offline_paths=list(offline),
    )


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
    from postureapp.collectors.registry import resolve_targets
    from postureapp.poll import run_poll

    config = state().config
    # Bad input (a malformed dump, nothing to poll) fails here, before the cache is touched.
    resolved = resolve_targets(target_request(config, **targets))
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
@click.option("--since", help="Compare the latest with the snapshot this long ago (24h, 7d).")
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
    with state().store(create=False) as store:
        latest = pick_snapshot(store, to_id)
        if since is not None:
            before = store.snapshot_before(isoformat(utcnow() - _parse_age(since)))
            if before is None:
                raise PostureError(f"no snapshot is older than {since}")
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


def _parse_age(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    try:
        amount, unit = int(text[:-1]), units[text[-1]]
    except (ValueError, KeyError, IndexError):
        raise PostureError(f"--since {text!r}: use a number and m, h, d or w (24h, 7d)") from None
    return timedelta(**{unit: amount})


def _printable(text: str) -> str:
    """Names come from the outside world: never let them drive the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


# -- checks and config ---------------------------------------------------------------


@command(cli, "checks")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--view", help="Only checks of this view (identities, endpoints, ...).")
def checks_command(fmt: str, view: str | None) -> None:
    """List the check catalog: ids, severities, views, frameworks.

    \b
    Example:
      posture checks --format json | jq '.[].id'
    """
    import checks as catalog

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
    # shell script expects 130; usage errors keep click's message and exit 2.
    try:
        code = cli.main(prog_name="posture", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        raise KeyboardInterrupt from None
    if isinstance(code, int) and code:
        sys.exit(code)


# These modules register their commands on `cli`; imported last because they import it.
from postureapp.cli import dashboard, exporting, serve, triage  # noqa: E402, F401
