"""Small real HTTP and HTTPS servers on 127.0.0.1, for the demo, the tests and the
probe benchmark.

One asyncio loop in one daemon thread serves any number of ports, so hundreds of
endpoints cost one thread. Each port answers a fixed table of routes (path -> status
and headers); a route can also hang until the servers stop, to exercise timeouts, or
trickle its headers a byte at a time, never finishing, to exercise a deadline that
per-read timeouts never reach. Every request is recorded per port, with its headers,
so a test can prove a request never arrived, or arrived without a cookie.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus


@dataclass(frozen=True)
class Route:
    """How one path answers: a status and headers, or never (``hang``), or a byte of
    header every ``trickle`` seconds until the client or the servers stop."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"ok\n"
    hang: bool = False
    trickle: float | None = None


@dataclass
class Site:
    """The routes of one port; unknown paths answer ``default``."""

    routes: Mapping[str, Route] = field(default_factory=dict)
    default: Route = field(default_factory=lambda: Route(404, body=b"not found\n"))
    headers: Mapping[str, str] = field(default_factory=dict)  # added to every answer
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, host
    received: list[dict[str, str]] = field(default_factory=list)  # each request's headers


class LocalServers:
    """Serve sites on free 127.0.0.1 ports until :meth:`stop`. Use as a context manager."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-http")
        self._thread.daemon = True
        self._servers: list[asyncio.base_events.Server] = []
        self._stopping: asyncio.Event | None = None
        self.sites: dict[int, Site] = {}
        self._thread.start()
        self._stopping = self._call(self._make_event())

    async def _make_event(self) -> asyncio.Event:
        return asyncio.Event()

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> LocalServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, site: Site, tls: ssl.SSLContext | None = None) -> int:
        """Start serving ``site`` (over TLS when ``tls`` is given); returns its port."""

        async def start() -> int:
            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
                await self._answer(site, reader, writer)

            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls, backlog=512)
            self._servers.append(server)
            return server.sockets[0].getsockname()[1]

        port = self._call(start())
        self.sites[port] = site
        return port

    async def _answer(
        self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # Keep-alive, as real servers do: a client may send several requests in turn.
        with contextlib.suppress(ConnectionError, OSError):
            while await self._one(site, reader, writer):
                pass
        writer.close()

    async def _one(
        self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection is done."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.rpartition(" ")[0] or "/"
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        site.requests.append((method, path, fields.get("host", "")))
        site.received.append(fields)
        route = site.routes.get(path, site.default)
        assert self._stopping is not None
        if route.hang:
            await self._stopping.wait()
            return False
        if route.trickle:
            await self._trickle(route.trickle, writer)
            return False
        try:
            reason = HTTPStatus(route.status).phrase
        except ValueError:
            reason = "Status"
        keep = fields.get("connection", "").lower() != "close"
        headers = {**site.headers, **route.headers}
        body = b"" if method == "HEAD" else route.body
        out = [f"HTTP/1.1 {route.status} {reason}"]
        out += [f"{name}: {value}" for name, value in headers.items()]
        out += [f"Content-Length: {len(route.body)}"]
        out += ["Connection: keep-alive" if keep else "Connection: close", "", ""]
        writer.write("\r\n".join(out).encode("latin-1") + body)
        await writer.drain()
        return keep

    async def _trickle(self, interval: float, writer: asyncio.StreamWriter) -> None:
        assert self._stopping is not None
        writer.write(b"HTTP/1.1 200 OK\r\nX-Trickle: ")
        while not self._stopping.is_set() and not writer.is_closing():
            writer.write(b"x")
            await writer.drain()  # raises once the client has gone
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    def stop(self) -> None:
        """Release hanging requests, close every port and end the thread."""
        if not self._thread.is_alive():
            return

        async def shut() -> None:
            assert self._stopping is not None
            self._stopping.set()
            for server in self._servers:
                server.close()
            for server in self._servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 5)

        with contextlib.suppress(Exception):
            self._call(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
