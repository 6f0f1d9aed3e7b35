"""`posture serve` over plain HTTP and WebSocket (httpx, websocket-client), run as users
run it: every route that shows or drives the dashboard needs the token, a foreign
Origin or Host is refused, and the session process holds nothing it should not."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import websocket  # websocket-client

from tests.serve.harness import POSTURE, serve
from tests.tui.estate import build_cache

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve-http") / "posture.db"
    build_cache(path)
    return path


def _ws_url(served) -> str:
    return served.base.replace("http://", "ws://") + "ws?width=100&height=30"


def _handshake_status(url: str, **kwargs) -> int:
    try:
        connection = websocket.create_connection(url, timeout=30, **kwargs)
    except websocket.WebSocketBadStatusException as error:
        return error.status_code
    connection.close()
    return 101


def _first_frame(connection) -> bytes:
    """Wait for the app's first screen bytes (the session started and painted)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        opcode, data = connection.recv_data()
        if opcode == websocket.ABNF.OPCODE_BINARY and len(data) > 10:
            return data
    raise AssertionError("the session sent no screen")


def test_every_route_that_shows_anything_needs_the_token(db):
    with serve(db) as served:
        base, token = served.base, served.token
        page = httpx.get(base, timeout=30)
        assert page.status_code == 401
        assert "payments" not in page.text and "textual.js" not in page.text
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert page.headers["X-Frame-Options"] == "DENY"
        wrong = httpx.get(base, headers={"Authorization": "Bearer " + "x" * 43}, timeout=30)
        assert wrong.status_code == 401
        good = httpx.get(base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert good.status_code == 200 and "textual-terminal" in good.text

        # Static client code is public; it says nothing about the estate.
        assert httpx.get(base + "static/textual/js/textual.js", timeout=30).status_code == 200
        assert httpx.get(base + "static/textual/", timeout=30).status_code in (403, 404)
        # textual-serve's download route is not served at all.
        assert httpx.get(base + "download/x", timeout=30).status_code == 404

        # The WebSocket: no token, no session.
        assert _handshake_status(_ws_url(served)) == 401
        assert served.session_pids() == []


def test_token_trades_for_an_httponly_cookie(db):
    with serve(db) as served, httpx.Client(base_url=served.base, timeout=30) as client:
        origin = {"Origin": served.base.rstrip("/")}
        assert client.post("session", json={"token": "y" * 43}, headers=origin).status_code == 401
        assert client.post("session", content=b"not json", headers=origin).status_code == 401
        evil = {"Origin": "http://evil.example"}
        assert client.post("session", json={"token": served.token}, headers=evil).status_code == 403
        assert not client.cookies

        answer = client.post("session", json={"token": served.token}, headers=origin)
        assert answer.status_code == 204
        set_cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        assert served.token not in set_cookie  # the cookie is not the token
        assert client.get("").status_code == 200

        name, value = next(iter(client.cookies.items()))
        tampered = value[:-1] + ("0" if value[-1] != "0" else "1")
        forged = httpx.get(served.base, cookies={name: tampered}, timeout=30)
        assert forged.status_code == 401
        cookie = f"{name}={value}"
        connection = websocket.create_connection(_ws_url(served), cookie=cookie, timeout=30)
        try:
            assert _first_frame(connection)
        finally:
            connection.close()


def test_foreign_origin_and_host_are_refused(db):
    with serve(db) as served:
        bearer = f"Authorization: Bearer {served.token}"
        # Cross-site WebSocket hijacking: a page elsewhere cannot open a session, even
        # where the browser would attach credentials.
        status = _handshake_status(_ws_url(served), header=[bearer], origin="http://evil.example")
        assert status == 403
        # DNS rebinding: a loopback server answers only to loopback names.
        rebound = httpx.get(
            served.base,
            headers={"Host": f"evil.example:{served.port}", "Authorization": bearer[15:]},
            timeout=30,
        )
        assert rebound.status_code == 421
        assert served.session_pids() == []


def test_session_process_is_the_app_alone_without_secrets(db):
    env = {"AWS_SECRET_ACCESS_KEY": "server-side-secret", "KUBECONFIG": "/nowhere"}
    with serve(db, "--max-sessions", "1", env=env) as served:
        bearer = [f"Authorization: Bearer {served.token}"]
        connection = websocket.create_connection(_ws_url(served), header=bearer, timeout=30)
        try:
            _first_frame(connection)
            (pid,) = served.session_pids()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            assert argv[1:3] == [b"-m", b"postureapp.serve.session"]  # no shell between
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
            assert int(parent) == served.process.pid
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert served.token.encode() not in environ
            assert b"server-side-secret" not in environ and b"KUBECONFIG" not in environ
            # One session at most: the next browser is turned away.
            assert _handshake_status(_ws_url(served), header=bearer) == 503
        finally:
            connection.close()
        served.wait_log(r"session 1 closed")


def test_team_token_from_env_is_not_printed(db, tmp_path):
    token = "team-token-" + "z" * 32
    with serve(db, env={"POSTURE_SERVE_TOKEN": token}) as served:
        assert token not in served.url and "#token" not in served.url
        assert "$POSTURE_SERVE_TOKEN" in served.url
        ok = httpx.get(served.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert ok.status_code == 200
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    with serve(db, "--token-file", str(token_file)) as served:
        ok = httpx.get(served.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert ok.status_code == 200


def test_public_bind_needs_the_flag_and_warns(db):
    refused = _run(db, "--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "--public" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    with serve(db, "--host", "0.0.0.0", "--public") as served:
        served.wait_log("WARNING: listening on 0.0.0.0")
        assert httpx.get(served.base, timeout=30).status_code == 401


def _run(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(POSTURE), "--db", str(db), "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--interval", "60"), "--interval needs --allow-poll"),
        (("--origin", "posture.example.com"), "--origin"),
        (("--host", "192.0.2.10"), "--public"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(db, args, message):
    result = _run(db, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_short_token_file_missing_cache_and_busy_port_exit_2(db, tmp_path):
    short = tmp_path / "short"
    short.write_text("tooshort\n")
    result = _run(db, "--token-file", str(short))
    assert result.returncode == 2 and "at least 20" in result.stderr

    result = _run(tmp_path / "absent.db")
    assert result.returncode == 2 and "no cache at" in result.stderr
    assert not (tmp_path / "absent.db").exists()

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(POSTURE), "--db", str(db), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2 and "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr
