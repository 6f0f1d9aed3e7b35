"""The ``posture`` command line.

Exit codes (README, "Exit codes"): 0 ok; 1 failing findings at or above ``--fail-on``;
2 usage or input error (bad flags, bad file, bad config, unusable cache);
3 the collection failed or was partial (unless ``--allow-partial``);
4 an I/O failure (an output that cannot be written: full disk, no permission).
Every error is one line on stderr, ``posture: error: ...``, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click


def _sqlite_utils_without_numpy() -> None:
    """Import sqlite-utils without the numpy and pandas it imports when installed (it
    maps their types on insert; posture never inserts them): ~0.1 s of every start-up.
    Only sqlite-utils' own lookup is refused; anything else can still import them."""
    if "sqlite_utils" in sys.modules:
        return
    refused = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in refused:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in refused:
            del sys.modules[name]


_sqlite_utils_without_numpy()

from postureapp.cli import group as _group  # noqa: E402
from postureapp.cli.common import fail, run_guarded  # noqa: E402
from postureapp.cli.group import printable  # noqa: E402
from postureapp.errors import EXIT_USAGE  # noqa: E402

__all__ = ["cli", "main"]


def __getattr__(name: str) -> Any:
    # ``from postureapp.cli import cli`` (tests, tools walking ``cli.commands``) gets the
    # group with every command registered; the console script loads only the one it runs.
    if name == "cli":
        _group.load_all()
        return _group.cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    run_guarded(_main)


def _main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1, where a
    # shell script expects 130, and prints usage errors on three lines.
    try:
        code = _group.cli.main(prog_name="posture", standalone_mode=False)
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
