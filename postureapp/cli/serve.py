"""``posture serve``: the dashboard in a browser (textual-serve), behind a token."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from postureapp.cli.common import command, state
from postureapp.cli.group import cli
from postureapp.errors import PostureError


@command(cli, "serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback also needs --public.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0 picks a free one).",
)
@click.option(
    "--public",
    is_flag=True,
    help="Allow a non-loopback --host: reachable from other machines (prints a warning).",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the access token from this file (else $POSTURE_SERVE_TOKEN, else a new "
    "random token is printed once).",
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="A public address browsers use to reach this server through a reverse proxy, "
    "e.g. https://posture.example.com (repeatable).",
)
@click.option("--allow-write", is_flag=True, help="Let browser sessions waive, note and attest.")
@click.option(
    "--allow-poll",
    is_flag=True,
    help="Let each browser session poll the configured targets (default: the cache only).",
)
@click.option(
    "--interval",
    type=click.IntRange(10, 86400),
    help="Seconds between polls, with --allow-poll (default: config).",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="Browser sessions open at once (each runs its own dashboard process).",
)
def serve_command(
    host: str,
    port: int,
    public: bool,
    token_file: Path | None,
    origins: tuple[str, ...],
    allow_write: bool,
    allow_poll: bool,
    interval: int | None,
    max_sessions: int,
) -> None:
    """Serve the dashboard to a browser: same views and keys, behind a token.

    Each browser session gets its own dashboard process. By default it reads the cache
    only (as `posture tui --offline`) and cannot waive, note or attest. Every page and
    the WebSocket need the token: it is printed once in the address (after `#`, so it
    never reaches a server log), or read from --token-file / $POSTURE_SERVE_TOKEN for a
    team behind an authenticating reverse proxy (see README). Ctrl+C stops it.

    \b
    Examples:
      posture serve                          # http://127.0.0.1:8765/#token=...
      posture serve --db team.db --token-file ./posture-token \\
          --origin https://posture.example.com
      posture serve --host 0.0.0.0 --public --token-file token   # prints a warning
    """
    from postureapp.serve import auth
    from postureapp.serve.server import DashboardServer, Options

    loopback = auth.is_loopback(host)
    if not loopback and not public:
        raise PostureError(
            f"--host {host} is reachable from other machines; add --public to mean it "
            "(or keep the default 127.0.0.1 and put a reverse proxy in front)"
        )
    if interval is not None and not allow_poll:
        raise PostureError("--interval needs --allow-poll (a served dashboard does not poll)")
    for origin in origins:
        if auth.origin_netloc(origin) is None:
            raise PostureError(f"--origin {origin!r}: give scheme and host, e.g. https://x.example")
    token = auth.load_token(token_file)
    generated = token is None
    if token_file is not None and auth.loose_permissions(token_file):
        click.echo(
            f"posture serve: warning: {token_file} is readable by other users (chmod 600 it)",
            err=True,
        )
    if allow_poll:
        from postureapp.serve.session import configured_targets

        configured_targets(state().config)  # bad targets fail now, not in every session
    store = state().store(create=allow_poll)  # read-only: the cache must already exist
    db_path = store.path.resolve()
    store.close()
    config_path = state().config.path
    options = Options(
        db_path=db_path,
        config_path=config_path if config_path is not None and config_path.exists() else None,
        token=token or auth.new_token(),
        host=host,
        port=port,
        loopback=loopback,
        origins=list(origins),
        allow_write=allow_write,
        allow_poll=allow_poll,
        interval=interval,
        max_sessions=max_sessions,
    )

    def ready(bound: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):  # noqa: S104 (naming the wildcard, not binding it)
            shown = "127.0.0.1"
        url = f"http://{shown}:{bound}/"
        mode = "read-write" if allow_write else "read-only"
        mode += ", polling" if allow_poll else ", cache only"
        if not loopback:
            click.echo(
                f"posture serve: WARNING: listening on {host}:{bound}, reachable from other "
                "machines over plain HTTP; anyone with the token sees every finding. Put a "
                "TLS reverse proxy in front (README, 'Serve the dashboard to a browser').",
                err=True,
            )
        if generated:
            click.echo(f"{url}#token={options.token}")
        else:
            click.echo(
                f"{url}  (token from {'--token-file' if token_file else '$' + auth.TOKEN_ENV})"
            )
        click.echo(
            f"posture serve: {db_path.name} ({mode}), up to {max_sessions} sessions; Ctrl+C stops",
            err=True,
        )

    server = DashboardServer(options)
    try:
        asyncio.run(server.run(ready))
    except OSError as error:
        raise PostureError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    click.echo("posture serve: stopped", err=True)
