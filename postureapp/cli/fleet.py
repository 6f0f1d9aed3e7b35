"""Past one machine: ``posture collect --target/--shard/--part`` (one target, or a shard of
an organisation, collected as a part) and ``posture merge`` (parts folded into a cache)."""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from postureapp.cli.common import command, state
from postureapp.cli.group import cli, printable
from postureapp.errors import EXIT_COLLECTION, InputError
from postureapp.model import SnapshotStatus, Target
from postureapp.store import Store

_SHARD = re.compile(r"^(\d+)/(\d+)$")
ORGANIZATION = "aws-organizations"


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None):
    if value is None:
        return None
    match = _SHARD.match(value.strip())
    if not match or not 0 <= int(match.group(1)) < int(match.group(2)):
        raise click.BadParameter(f"{value!r}: use INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 3/10)")
    return int(match.group(1)), int(match.group(2))


def part_options(function):
    """``collect``'s options for running one piece of a fleet as its own process."""
    options = [
        click.option(
            "--target",
            "target_names",
            multiple=True,
            metavar="NAME",
            help="Collect only this target of those named: a kube context, an AWS "
            "profile, or an account id of the --organization (repeatable).",
        ),
        click.option(
            "--shard",
            callback=_shard,
            metavar="INDEX/COUNT",
            help="Collect only the organisation's accounts whose id modulo COUNT is INDEX "
            "(other targets go with shard 0): one pod of an Indexed Job.",
        ),
        click.option(
            "--part",
            metavar="DEST",
            help="Also publish the snapshot as a part for 'posture merge': "
            "s3://bucket/prefix or a folder, as DEST/<target>/<timestamp>.db.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def narrow(
    targets: list[Target], names: tuple[str, ...], shard: tuple[int, int] | None
) -> list[Target]:
    """The targets ``--target`` and ``--shard`` leave of those resolved.

    Raises:
        InputError: a name that is no target (nor an account id with --organization),
            --shard without --organization, or both options at once.
    """
    organisations = [t for t in targets if t.provider == ORGANIZATION]
    if shard is not None:
        if names:
            raise InputError("--target and --shard do not go together; pick one")
        if not organisations:
            raise InputError("--shard splits an organisation's accounts: add --organization")
        index, count = shard
        return [
            _with(t, shard=[index, count]) if t in organisations else t
            for t in targets
            if t.provider == ORGANIZATION or index == 0
        ]
    if not names:
        return targets
    kept: list[Target] = []
    accounts: list[str] = []
    for name in dict.fromkeys(names):
        match = [t for t in targets if name in (t.name, t.label) and t.provider != "probe"]
        if match:
            kept.extend(t for t in match if t not in kept)
        elif organisations and name.isdigit() and len(name) == 12:
            accounts.append(name)
        else:
            available = sorted({t.name for t in targets if t.provider != "probe"})
            hint = " (or an account id of the --organization)" if organisations else ""
            raise InputError(
                f"--target {printable(name)!r}: no such target; choose one of "
                f"{', '.join(available) or 'none'}{hint}"
            )
    if accounts:
        for organisation in organisations:
            if organisation not in kept:
                kept.append(_with(organisation, only_accounts=accounts))
    kept.extend(t for t in targets if t.provider == "probe")
    return kept


def _with(target: Target, **options: object) -> Target:
    return Target(target.provider, target.name, {**target.options, **options})


def part_label(targets: list[Target], shard: tuple[int, int] | None) -> str:
    """A part's folder: what it holds (the merge finds the newest part of each)."""
    if shard is not None:
        return f"shard-{shard[0]}-of-{shard[1]}"
    names = [
        f"organization-{t.name}" if t.provider == ORGANIZATION else t.name
        for t in targets
        if t.provider != "probe"
    ]
    return "+".join(names) or "all"


@contextlib.contextmanager
def collecting_to(part: str | None, label: str) -> Iterator[Store]:
    """The cache a collect writes: ``--db`` as usual; with ``--part`` and no ``--db``, a
    fresh temporary one (a part holds this collection only). With ``--part`` the
    snapshot is published once written, and where it went is printed."""
    if part is None:
        with state().store() as store:
            yield store
        return
    from postureapp.fleet.parts import is_s3, part_name, publish, split_s3

    if is_s3(part):
        split_s3(part)  # a malformed destination fails before anything is collected
    with contextlib.ExitStack() as stack:
        if state().db_path is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="posture-")))
            store = stack.enter_context(Store(folder / "part.db"))
        else:
            store = stack.enter_context(state().store())
        yield store
        store.close()
        where = publish(store.path, part, part_name([label]))
        click.echo(f"part published: {printable(where)}", err=True)


# -- merge --------------------------------------------------------------------------------


@command(cli, "merge")
@click.argument("sources", nargs=-1, required=True, metavar="PART...")
@click.option(
    "--forget",
    multiple=True,
    metavar="TARGET",
    help="Drop this target from the merged cache (it sends no more parts).",
)
@click.option("--allow-partial", is_flag=True, help="Exit 0 rather than 3 on a partial merge.")
def merge_command(sources: tuple[str, ...], forget: tuple[str, ...], allow_partial: bool) -> None:
    """Fold parts into the cache as one snapshot (idempotent).

    PART is a part file, a folder of DEST/<target>/<timestamp>.db parts, or an S3
    prefix of them. The newest part of each target is merged with every other target's
    last state in the cache (unknown once older than fleet.stale_after_hours), judged as
    one estate, and written as one snapshot. Parts merged before are skipped: merging
    the same parts again writes nothing. Exits 3 when the merged snapshot is partial.

    \b
    Examples:
      posture merge s3://posture-parts/prod --db fleet.db
      posture merge ./parts/ --db fleet.db
      posture merge ./parts/ --db fleet.db --forget old-cluster
    """
    from postureapp.fleet.merge import Merger

    config = state().config
    with state().store() as store:
        result = Merger(store, config, forget).merge(list(sources))
    for location, why in result.skipped:
        click.echo(f"  skipped {printable(location)}: {printable(why)}", err=True)
    if result.snapshot_id is None:
        click.echo(
            f"nothing new to merge: {len(result.already)} part(s) already merged"
            + (f", {len(result.skipped)} unreadable" if result.skipped else "")
            + "; nothing written",
            err=True,
        )
        if result.skipped and not allow_partial:
            sys.exit(EXIT_COLLECTION)
        return
    status = result.status.value if result.status else "?"
    click.echo(
        f"snapshot {result.snapshot_id} {status}: merged {len(result.merged)} part(s)"
        f" ({len(result.superseded)} superseded, {len(result.already)} already merged);"
        f" targets: {len(result.fresh)} new, {len(result.as_is)} carried as-is,"
        f" {len(result.stale)} stale (unknown), {len(result.dropped)} dropped;"
        f" {result.resources} resources, {result.findings} findings in {result.seconds:.1f}s",
        err=True,
    )
    for run in result.runs:
        if run.status.value != "ok":
            click.echo(
                f"  {run.collector} {printable(run.target)}: {run.status.value}: "
                f"{printable(run.error)}",
                err=True,
            )
    partial = result.status is not SnapshotStatus.COMPLETE or result.skipped
    if partial and not allow_partial:
        sys.exit(EXIT_COLLECTION)
