"""Commands that record human decisions: waivers, notes, attestations."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from postureapp.cli.common import command, state
from postureapp.cli.group import cli, printable
from postureapp.cli.output import check_output, write_text
from postureapp.errors import InputError
from postureapp.model import Attestation, Waiver, isoformat, parse_time, utcnow


def _when(value: str | None, label: str) -> str | None:
    if value is None:
        return None
    try:
        moment = parse_time(value)
    except ValueError:
        raise InputError(f"{label} {value!r} is not a date (use YYYY-MM-DD or ISO 8601)") from None
    return isoformat(moment)


def _known_fingerprint(store, fingerprint: str) -> None:
    """A waiver or note on a fingerprint no snapshot holds would silently match nothing
    (a typo, a fingerprint from another cache): refuse it."""
    if not store.finding_history(fingerprint):
        shown = printable(fingerprint[:80])
        raise InputError(
            f"no finding with fingerprint {shown!r} in {store.path}; copy one from "
            "'posture export --format json' or the dashboard's detail pane"
        )


def _known_check(check_id: str) -> None:
    import difflib

    import postureapp.checks as catalog

    known = catalog.REGISTRY.checks
    if check_id not in known:
        close = difflib.get_close_matches(check_id, list(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else "; see 'posture checks'"
        raise InputError(f"unknown check {printable(check_id)!r}{hint}")


@command(cli, "waive")
@click.argument("fingerprint", required=False)
@click.option("--check", "check_id", help="Waive this check on resources matching --resource.")
@click.option("--resource", "resource_glob", help="Resource uid glob, with --check (default *).")
@click.option("--reason", required=True, help="Why the risk is accepted.")
@click.option("--owner", required=True, help="Who owns the risk.")
@click.option("--ticket", default="", help="Tracking ticket.")
@click.option("--expires", help="When the waiver lapses (YYYY-MM-DD); it then stops applying.")
def waive_command(fingerprint, check_id, resource_glob, reason, owner, ticket, expires) -> None:
    """Accept a risk: hide a finding (by fingerprint) or a check on matching resources.

    \b
    Examples:
      posture waive 3f2a9c0e... --reason "legacy, replaced in Q3" --owner alice \\
          --expires 2030-01-31
      posture waive --check k8s-svc-loadbalancer --resource 'k8s://prod/ingress-nginx/*' \\
          --reason "the ingress controller is meant to be public" --owner platform
    """
    if resource_glob and not check_id:
        raise InputError("--resource goes with --check")
    if (fingerprint is None) == (check_id is None):
        raise InputError("name what to waive: a FINGERPRINT, or --check (with --resource)")
    if check_id is not None:
        _known_check(check_id)
    expires_at = _when(expires, "--expires")
    if (expiry := parse_time(expires_at)) is not None and expiry <= utcnow():
        raise InputError(f"--expires {expires} is in the past")
    waiver = Waiver(
        fingerprint=fingerprint,
        check_id=check_id,
        resource_glob=(resource_glob or "*") if check_id else None,
        reason=reason,
        owner=owner,
        ticket=ticket,
        expires_at=expires_at,
    )
    # A fingerprint must be in the cache already; a check waiver may come first.
    with state().store(create=fingerprint is None) as store:
        if fingerprint is not None:
            _known_fingerprint(store, fingerprint)
        saved = store.add_waiver(waiver)
    click.echo(f"waiver {saved.id} added: {saved.describe_selector()}", err=True)


@cli.group("waivers", context_settings={"help_option_names": ["-h", "--help"]})
def waivers_group() -> None:
    """List, export, import and remove waivers (keep them in git as TOML)."""


@command(waivers_group, "list")
def waivers_list() -> None:
    """List waivers, expired ones marked.

    \b
    Example:
      posture waivers list
    """
    with state().store() as store:
        waivers = store.waivers()
    if not waivers:
        click.echo("no waivers")
    for waiver in waivers:
        expired = " EXPIRED" if waiver.is_expired() else ""
        # Waiver files come from many hands: never let their text drive the terminal.
        click.echo(
            printable(
                f"{waiver.id:>4}  {waiver.describe_selector()}  owner={waiver.owner}  "
                f"expires={waiver.expires_at or 'never'}{expired}  {waiver.reason}"
            )
        )


@command(waivers_group, "export")
@click.option("-o", "--output", default="-", help="TOML file, or - for stdout.")
def waivers_export(output: str) -> None:
    """Write every waiver to a reviewable TOML file.

    \b
    Example:
      posture waivers export -o waivers.toml
    """
    check_output(output)
    with state().store() as store:
        text = store.export_waivers()
    write_text(output, text)


@command(waivers_group, "import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Make the file the whole set (drop the rest).")
def waivers_import(path: Path, replace: bool) -> None:
    """Load waivers from a TOML file; all are validated before any is written.

    \b
    Example:
      posture waivers import waivers.toml --replace
    """
    with state().store() as store:
        added = store.import_waivers(path, replace=replace)
    click.echo(f"{added} waivers imported from {path}", err=True)


@command(waivers_group, "remove")
@click.argument("waiver_id", type=int)
def waivers_remove(waiver_id: int) -> None:
    """Remove a waiver by id.

    \b
    Example:
      posture waivers remove 4
    """
    with state().store() as store:
        if not store.remove_waiver(waiver_id):
            raise InputError(f"no waiver {waiver_id}; see 'posture waivers list'")
    click.echo(f"waiver {waiver_id} removed", err=True)


@command(cli, "note")
@click.argument("fingerprint")
@click.argument("text")
@click.option("--author", default=None, help="Who writes the note (default: login name).")
def note_command(fingerprint: str, text: str, author: str | None) -> None:
    """Add a note to a finding (shown in the dashboard's detail pane).

    \b
    Example:
      posture note 3f2a9c0e... "owner paged, fix in INC-4211"
    """
    with state().store(create=False) as store:
        _known_fingerprint(store, fingerprint)
        store.add_note(fingerprint, author or getpass.getuser(), text)


@command(cli, "attest")
@click.argument("control_id")
@click.option("--by", "by", required=True, help="Who did it.")
@click.option("--at", "at", help="When it was done (default: now).")
@click.option("--expires", help="When it must be done again (YYYY-MM-DD).")
@click.option("--note", default="", help="What was done, where the evidence is.")
def attest_command(control_id, by, at, expires, note) -> None:
    """Record a manual attestation for a governance control (e.g. a restore test).

    \b
    Example:
      posture attest backup-restore-tested --by alice --expires 2030-03-01 \\
          --note "restored orders-db to staging, RUNBOOK-12"
    """
    import postureapp.checks as catalog

    if control_id not in catalog.REGISTRY.controls:
        known = ", ".join(sorted(catalog.REGISTRY.controls)) or "none yet"
        raise InputError(f"unknown control {control_id!r} (known: {known})")
    attestation = Attestation(
        control_id=control_id,
        by=by,
        at=_when(at, "--at") or isoformat(utcnow()),
        expires_at=_when(expires, "--expires"),
        note=note,
    )
    with state().store() as store:
        store.add_attestation(attestation)
    click.echo(f"attestation recorded for {control_id}", err=True)
