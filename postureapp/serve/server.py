"""The HTTP side of ``posture serve``: aiohttp routes in front of textual-serve's
per-session app process and its browser client (xterm.js).

textual-serve's own ``Server`` has no authentication, no Origin check, a download
route and a page that loads fonts from a third party; only its ``AppService`` (one app
process per WebSocket and the packet protocol between them) and its static client are
used here. Every route that shows or drives the dashboard is behind the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from postureapp.serve.auth import COOKIE_SECONDS, TOKEN_ENV, Gate, make_cookie, token_matches

HERE = Path(__file__).parent
TEXTUAL_STATIC = Path(textual_serve.__file__).parent / "static"
STOP_SECONDS = 10

# Scripts only from this server; xterm.js injects its own <style> elements, hence the
# inline styles. No frames (a framed dashboard could be clicked or typed into by
# another page), no third-party fetch, no base or form hijack.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Variables a session never needs: the token, and without --allow-poll the credentials
# and kubeconfig the server's shell may hold (a read-only session polls nothing).
CREDENTIAL_PREFIXES = ("AWS_", "KUBECONFIG", "KUBERNETES_", "GOOGLE_", "AZURE_")


@dataclass
class Options:
    """What ``posture serve`` was asked to do."""

    db_path: Path
    config_path: Path | None
    token: str
    host: str = "127.0.0.1"
    port: int = 8765
    loopback: bool = True
    origins: list[str] = field(default_factory=list)
    allow_write: bool = False
    allow_poll: bool = False
    interval: int | None = None
    max_sessions: int = 8

    def session_argv(self) -> list[str]:
        """The per-session app's command line (run without a shell)."""
        argv = [sys.executable, "-m", "postureapp.serve.session", "--db", str(self.db_path)]
        if self.config_path is not None:
            argv += ["--config", str(self.config_path)]
        if self.allow_write:
            argv.append("--allow-write")
        if self.allow_poll:
            argv.append("--allow-poll")
            if self.interval:
                argv += ["--interval", str(self.interval)]
        return argv

    def session_env(self, base: dict[str, str]) -> dict[str, str]:
        """The per-session app's environment: the server's, less what it must not hold."""
        env = {key: value for key, value in base.items() if key != TOKEN_ENV}
        env.pop("TEXTUAL", None)  # devtools would mirror the session elsewhere
        if not self.allow_poll:
            env = {k: v for k, v in env.items() if not k.startswith(CREDENTIAL_PREFIXES)}
        return env


class Session(AppService):
    """textual-serve's app service, started without a shell and with a reduced
    environment, and killed when it does not leave on request."""

    def __init__(self, options: Options, **kwargs: Any) -> None:
        super().__init__(" ".join(options.session_argv()), **kwargs)
        self.options = options

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return self.options.session_env(super()._build_environment(width, height))

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.options.session_argv(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width, height),
        )
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(super().stop(), STOP_SECONDS)
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


class DashboardServer:
    """The routes, the token gate and the open sessions."""

    def __init__(self, options: Options, log: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.gate: Gate | None = None  # known once the port is bound
        self.sessions: dict[int, Session] = {}
        self._ids = itertools.count(1)
        self._downloads = DownloadManager()
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
        )

    # -- the aiohttp application ------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=16 * 1024)
        app.add_routes(
            [
                web.get("/", self.index),
                web.post("/session", self.login),
                web.get("/ws", self.websocket),
                # Public: the xterm.js client, its CSS and fonts (textual-serve's files) and
                # this server's two scripts. They hold nothing about the estate.
                web.static("/static/textual", TEXTUAL_STATIC, show_index=False),
                web.static("/static/posture", HERE / "static", show_index=False),
            ]
        )
        app.on_shutdown.append(self._close_sessions)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        assert self.gate is not None
        if not self.gate.host_allowed(request.host):
            response: web.StreamResponse = web.Response(
                status=421, text="unknown host name; see posture serve --origin\n"
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = error
        if not response.prepared:
            response.headers.update(HEADERS)
            if not request.path.startswith("/static/"):  # public files may be cached
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _authenticated(self, request: web.Request) -> bool:
        assert self.gate is not None
        return self.gate.authenticated(dict(request.cookies), request.headers.get("Authorization"))

    def _page(self, name: str, status: int = 200, **context: Any) -> web.Response:
        html = self._templates.get_template(name).render(**context)
        return web.Response(status=status, text=html, content_type="text/html")

    async def index(self, request: web.Request) -> web.Response:
        if not self._authenticated(request):
            return self._page("locked.html", status=401)
        return self._page(
            "index.html",
            title=f"posture · {self.options.db_path.name}",
            read_only=not self.options.allow_write,
        )

    async def login(self, request: web.Request) -> web.Response:
        """Trade the token (from the URL fragment, posted by the page) for the cookie."""
        assert self.gate is not None
        origin = request.headers.get("Origin")
        if not self.gate.origin_allowed(origin, request.host):
            return web.Response(status=403, text="cross-origin request refused\n")
        try:
            offered = (await request.json()).get("token")
        except (ValueError, AttributeError):
            offered = None
        if not isinstance(offered, str) or not token_matches(self.gate.token, offered):
            return web.Response(status=401, text="wrong token\n")
        response = web.Response(status=204)
        response.set_cookie(
            self.gate.cookie,
            make_cookie(self.gate.token),
            max_age=COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="Strict",
            # Behind a TLS proxy the server sees http, but the browser says https.
            secure=request.secure or (origin or "").startswith("https://"),
        )
        return response

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """One browser session: its own app process, for as long as the socket lives."""
        assert self.gate is not None
        if not self.gate.origin_allowed(request.headers.get("Origin"), request.host):
            return web.Response(status=403, text="cross-origin WebSocket refused\n")
        if not self._authenticated(request):
            return web.Response(status=401, text="token required\n")
        if len(self.sessions) >= self.options.max_sessions:
            return web.Response(status=503, text="too many sessions; see --max-sessions\n")
        width = _size(request.query.get("width"), 80)
        height = _size(request.query.get("height"), 24)
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=64 * 1024)
        await socket.prepare(request)
        number = next(self._ids)
        session = Session(
            self.options,
            write_bytes=socket.send_bytes,
            write_str=socket.send_str,
            close=socket.close,
            download_manager=self._downloads,
        )
        self.sessions[number] = session
        try:
            await session.start(width, height)
            self._log(
                f"posture serve: session {number} opened from {request.remote} "
                f"(pid {session.pid}, {len(self.sessions)} open)"
            )
            await _relay(socket, session)
        except asyncio.CancelledError:
            await socket.close()
        finally:
            await session.stop()
            del self.sessions[number]
            self._log(f"posture serve: session {number} closed ({len(self.sessions)} open)")
        return socket

    async def _close_sessions(self, _app: web.Application) -> None:
        await asyncio.gather(
            *(session.stop() for session in list(self.sessions.values())),
            return_exceptions=True,
        )

    # -- running ------------------------------------------------------------------------

    async def run(self, ready: Callable[[int], None]) -> None:
        """Listen until SIGINT or SIGTERM; ``ready(port)`` once the port is bound."""
        runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.options.host, self.options.port)
            await site.start()
            port = runner.addresses[0][1]
            self.gate = Gate(
                self.options.token,
                port=port,
                loopback=self.options.loopback,
                origins=self.options.origins,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            ready(port)
            await stop.wait()
        finally:
            await runner.cleanup()


async def _relay(socket: web.WebSocketResponse, session: Session) -> None:
    """Browser -> app: keys and mouse (as terminal input), resizes, focus."""
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            kind, data = json.loads(message.data)
        except (ValueError, TypeError):
            continue
        if kind == "stdin" and isinstance(data, str):
            await session.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await session.set_terminal_size(
                _size(data.get("width"), 80), _size(data.get("height"), 24)
            )
        elif kind == "ping":
            await socket.send_json(["pong", data])
        elif kind == "blur":
            await session.blur()
        elif kind == "focus":
            await session.focus()


def _size(value: Any, default: int) -> int:
    """A terminal dimension from the browser, bounded (it sizes the app's screen)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(10, min(number, 1000))
