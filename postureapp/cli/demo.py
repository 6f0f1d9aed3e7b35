"""``posture demo``: the dashboard, or a headless export, on a local demo estate."""

from __future__ import annotations

import click

from postureapp.cli.common import command, state
from postureapp.cli.group import cli
from postureapp.cli.output import check_output
from postureapp.errors import InputError, PostureError
from postureapp.export import FORMATS


@command(cli, "demo")
@click.option("--headless", is_flag=True, help="Collect once and export; no dashboard.")
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default="html", show_default=True
)
@click.option("-o", "--output", default="-", show_default=True, help="With --headless.")
@click.option(
    "--interval",
    type=click.IntRange(5, 3600),
    default=15,
    show_default=True,
    help="Seconds between polls in the dashboard.",
)
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Probe the demo's endpoints (its local HTTP and HTTPS servers).",
)
def demo_command(headless: bool, fmt: str, output: str, interval: int, probe: bool) -> None:
    """The dashboard on a local demo estate (no cluster or AWS account needed).

    Starts the project's Kubernetes API test server and moto's AWS server on free
    127.0.0.1 ports, seeds a microservice estate with planted problems, and polls it
    with the real collectors into a temporary cache (with --db, a new file that stays
    afterwards). Every few polls the estate changes.

    \b
    Examples:
      posture demo
      posture demo --db demo.db    # keep the demo's cache: posture --db demo.db --offline
      posture demo --headless --format html -o report.html
      posture demo --no-probe      # without the live endpoint probes
    """
    try:
        import moto  # noqa: F401
    except ImportError:
        raise PostureError(
            "the demo needs moto's server: pip install 'postureapp[demo]' (or run make demo)"
        ) from None
    from postureapp import demo

    kept = state().db_path  # only --db: $POSTURE_DB names the real cache, never the demo's
    if kept is not None and kept.exists():
        raise InputError(
            f"{kept} exists; the demo writes a made-up estate and never into an existing"
            " cache: pass --db a new file, or no --db for a temporary cache"
        )
    if headless:
        check_output(output)
        from postureapp.cli.exporting import write_report
        from postureapp.store import Store

        def export(db_path, chosen_format, destination):
            with Store(db_path) as store:
                write_report(store, store.latest(), chosen_format, destination)

        demo.run_headless(state().config, fmt, output, export, probe=probe, db_path=kept)
        return
    demo.run_dashboard(state().config, interval, probe=probe, db_path=kept)
