"""Shared command-line plumbing: options every command takes, error handling, output."""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from postureapp.config import Config, load_config
from postureapp.errors import EXIT_IO, EXIT_USAGE, PostureError, StoreError
from postureapp.model import Severity, Snapshot
from postureapp.store import Store, default_db_path, describe_database_error

_opened_path: Path | None = None  # for naming the file in a late sqlite error


class State:
    """Per-invocation state: which cache and config, opened on first use."""

    def __init__(self) -> None:
        self.db_path: Path | None = None
        self.config_path: Path | None = None
        self.offline = False  # `posture --offline`: the dashboard on the cache alone
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def store(self, *, create: bool = True) -> Store:
        global _opened_path
        path = self.db_path or default_db_path()
        _opened_path = path
        if not create and not path.exists():
            raise StoreError(f"no cache at {path}; run 'posture collect' first or pass --db")
        return Store(path)


def _remember_db(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(State).db_path = value


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(State).config_path = value


db_option = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    expose_value=False,
    callback=_remember_db,
    is_eager=True,
    help="Cache file (default: $POSTURE_DB, else the user data directory).",
)
config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    expose_value=False,
    callback=_remember_config,
    is_eager=True,
    help="Config file (default: $POSTURE_CONFIG, else the user config directory).",
)


def command(group: click.Group, name: str, **kwargs: Any) -> Callable:
    """A subcommand that accepts --db and --config and turns user errors into one line."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kw: Any) -> Any:
            return function(*args, **kw)

        wrapped = config_option(db_option(wrapper))
        return group.command(name, **kwargs)(wrapped)

    return decorate


def state() -> State:
    return click.get_current_context().ensure_object(State)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"posture: error: {message}", err=True)
    sys.exit(code)


def run_guarded(main: Callable[[], Any]) -> Any:
    """Run the CLI so that user errors are one line and an exit code, never a traceback."""
    try:
        result = main()
        sys.stdout.flush()  # a full disk behind `> file` says so here, not at exit
        return result
    except PostureError as error:
        fail(str(error), error.exit_code)
    except sqlite3.DatabaseError as error:
        text = str(error)
        code = EXIT_IO if "disk is full" in text or "disk I/O error" in text else EXIT_USAGE
        fail(describe_database_error(_opened_path or default_db_path(), error), code)
    except KeyboardInterrupt:
        click.echo("posture: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `posture export -o - | head` is fine
        _quiet_stdout()
        sys.exit(0)
    except OSError as error:
        # Not a user's mistake but the machine's (a read or write that failed where no
        # command expected it): one line and exit 4, so CI does not read "findings".
        where = f" {error.filename}" if error.filename else ""
        fail(f"I/O error{where}: {error.strerror or error}", EXIT_IO)


def _quiet_stdout() -> None:
    """Stdout's reader is gone: point it at /dev/null so the exit flush cannot fail."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def severity_type(_ctx: click.Context, _param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        return Severity.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def pick_snapshot(store: Store, snapshot_id: int | None) -> Snapshot:
    if snapshot_id is not None:
        snapshot = store.snapshot(snapshot_id)
        if snapshot is None:
            raise PostureError(f"no snapshot {snapshot_id} in {store.path}; see 'posture diff'")
        return snapshot
    snapshot = store.latest()
    if snapshot is None:
        raise PostureError(f"the cache {store.path} holds no snapshot; run 'posture collect'")
    return snapshot
