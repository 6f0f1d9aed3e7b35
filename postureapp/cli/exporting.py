"""``posture export`` (from the cache) and ``posture snapshot`` (collect, then export),
with the CI gate: ``--fail-on``, ``--new-only`` and ``--allow-partial``."""

from __future__ import annotations

import sys
from typing import Any

import click

from postureapp.cli.common import command, pick_snapshot, severity_type, state
from postureapp.cli.group import cli
from postureapp.cli.output import check_output, output_stream
from postureapp.cli.targets import resolve, target_options
from postureapp.export import FORMATS


def gate_options(function):
    function = click.option(
        "--allow-partial", is_flag=True, help="Exit 0 rather than 3 when the snapshot is partial."
    )(function)
    function = click.option(
        "--new-only",
        "baseline",
        metavar="BASELINE",
        help="With --fail-on: count only findings not failing in BASELINE "
        "(a snapshot id, or a previous JSON export).",
    )(function)
    function = click.option(
        "--fail-on",
        callback=severity_type,
        metavar="SEVERITY",
        help="Exit 1 if an unwaived failing finding is at least this severe.",
    )(function)
    function = click.option(
        "-o", "--output", default="-", show_default=True, help="File, or - for stdout."
    )(function)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default="json",
        show_default=True,
        help="Output format.",
    )(function)


def write_report(store, snapshot, fmt: str, output: str) -> dict[str, Any]:
    """Build the document once, write it (whole or not at all), and return it for the
    gate."""
    from postureapp.export import build_document, write

    document = build_document(store, snapshot)
    with output_stream(output) as out:
        write(fmt, document, out)
    return document


def check_gate_options(fail_on, baseline, output: str) -> None:
    """Everything about the gate and the output that can be wrong without the cache,
    checked before any work."""
    if baseline is not None and fail_on is None:
        raise click.UsageError("--new-only needs --fail-on SEVERITY")
    check_output(output)


def load_gate_baseline(baseline: str | None, store) -> set[str] | None:
    """The baseline's failing fingerprints (None without --new-only); a bad file or an
    unknown snapshot id is an InputError."""
    if baseline is None:
        return None
    from postureapp.export.gate import load_baseline

    return load_baseline(baseline, store)


def apply_gate(document, fail_on, fingerprints, allow_partial, always: bool) -> None:
    """Exit as the gate says. ``always``: gate on collection health even without
    --fail-on (``snapshot`` does; a plain ``export`` only warns)."""
    from postureapp.export.gate import evaluate_gate

    if not always and fail_on is None:
        if document["snapshot"]["status"] != "complete":
            click.echo(
                f"posture: warning: snapshot {document['snapshot']['id']} is "
                f"{document['snapshot']['status']}; some results are unknown",
                err=True,
            )
        return
    result = evaluate_gate(document, fail_on, fingerprints, allow_partial)
    click.echo(f"posture: {result.message}", err=True)
    if result.exit_code:
        sys.exit(result.exit_code)


@command(cli, "export")
@gate_options
@click.option("--snapshot", "snapshot_id", type=int, help="Snapshot id (default: the latest).")
def export_command(fmt, output, fail_on, baseline, allow_partial, snapshot_id) -> None:
    """Export a snapshot from the cache alone (no collection; works offline).

    \b
    Examples:
      posture export --format html -o posture.html
      posture export --format sarif -o posture.sarif --fail-on high --new-only baseline.json
      posture export --format csv --snapshot 12 -o -
    """
    check_gate_options(fail_on, baseline, output)
    with state().store(create=False) as store:
        snapshot = pick_snapshot(store, snapshot_id)
        fingerprints = load_gate_baseline(baseline, store)  # a bad baseline writes nothing
        document = write_report(store, snapshot, fmt, output)
    apply_gate(document, fail_on, fingerprints, allow_partial, always=False)


@command(cli, "snapshot")
@target_options
@gate_options
def snapshot_command(fmt, output, fail_on, baseline, allow_partial, **targets) -> None:
    """Collect once, then export: the command for CI jobs.

    Exits 1 on an unwaived failing finding at or above --fail-on (with --new-only,
    only findings new since the baseline), 3 when the collection is partial unless
    --allow-partial, 2 on bad input (checked before anything is collected), 4 when
    the output cannot be written.

    \b
    Example:
      posture snapshot --context prod --format sarif -o posture.sarif \\
          --fail-on high --new-only last-main.json
    """
    from postureapp.poll import run_poll

    config = state().config
    check_gate_options(fail_on, baseline, output)
    fingerprints = None
    if baseline is not None:
        if baseline.strip().isdigit():
            # A snapshot id lives in the cache, which must exist already; read it before
            # the poll, whose retention could prune it.
            with state().store(create=False) as store:
                fingerprints = load_gate_baseline(baseline, store)
        else:
            fingerprints = load_gate_baseline(baseline, None)
    resolved = resolve(config, **targets)
    with state().store() as store:
        result = run_poll(store, config, resolved, progress_to=sys.stderr)
        snapshot = pick_snapshot(store, result.snapshot_id)
        document = write_report(store, snapshot, fmt, output)
    apply_gate(document, fail_on, fingerprints, allow_partial, always=True)
