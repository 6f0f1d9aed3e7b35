"""The ``posture`` command line.

Exit codes (README, "Exit codes"): 0 ok; 1 failing findings at or above ``--fail-on``;
2 usage or input error (bad flags, bad file, bad config, unusable cache);
3 the collection failed or was partial (unless ``--allow-partial``);
4 an I/O failure (an output that cannot be written: full disk, no permission).
Every error is one line on stderr, ``posture: error: ...``, never a traceback.
"""

from __future__ import annotations

import sys

import click

# Importing a command module registers its commands on the group.
from postureapp.cli import core, dashboard, exporting, fleet, serve, triage  # noqa: F401
from postureapp.cli.common import fail, run_guarded
from postureapp.cli.group import cli, printable
from postureapp.errors import EXIT_USAGE

__all__ = ["cli", "main"]


def main() -> None:
    run_guarded(_main)


def _main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1, where a
    # shell script expects 130, and prints usage errors on three lines.
    try:
        code = cli.main(prog_name="posture", standalone_mode=False)
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "posture"
        message = printable(error.format_message()).removesuffix(".")
        fail(f"{message} (see '{where} --help')", EXIT_USAGE)
    except click.ClickException as error:
        fail(printable(error.format_message()), error.exit_code)
    except click.Abort:
        raise KeyboardInterrupt from None
    if isinstance(code, int) and code:
        sys.exit(code)
