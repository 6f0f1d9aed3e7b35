"""The access rules of `posture serve`, one by one (postureapp/serve/auth.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from postureapp.errors import InputError
from postureapp.serve import auth

TOKEN = "t" * 43


def test_new_tokens_are_long_and_different():
    tokens = {auth.new_token() for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 43 for token in tokens)


def test_token_from_file_env_or_none(tmp_path):
    path = tmp_path / "token"
    path.write_text(f"  {TOKEN}\n")
    assert auth.load_token(path, environ={}) == TOKEN
    assert auth.load_token(None, environ={auth.TOKEN_ENV: TOKEN}) == TOKEN
    assert auth.load_token(None, environ={}) is None
    path.chmod(0o644)
    assert auth.loose_permissions(path)
    path.chmod(0o600)
    assert not auth.loose_permissions(path)


@pytest.mark.parametrize("text", ["short", "two words " + "x" * 30, "tab\t" + "x" * 30, ""])
def test_bad_tokens_are_refused(tmp_path, text):
    path = tmp_path / "token"
    path.write_text(text)
    with pytest.raises(InputError, match="at least 20"):
        auth.load_token(path, environ={})


def test_missing_token_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        auth.load_token(tmp_path / "absent", environ={})


def test_token_comparison():
    assert auth.token_matches(TOKEN, TOKEN)
    assert not auth.token_matches(TOKEN, TOKEN[:-1])
    assert not auth.token_matches(TOKEN, None)
    assert not auth.token_matches(TOKEN, "é" * 43)
    assert auth.bearer(f"Bearer {TOKEN}") == TOKEN
    assert auth.bearer(f"bearer {TOKEN}") == TOKEN
    assert auth.bearer(f"Basic {TOKEN}") is None


def test_cookie_is_bound_to_the_token_and_expires():
    cookie = auth.make_cookie(TOKEN, now=1000)
    assert TOKEN not in cookie
    assert auth.cookie_valid(TOKEN, cookie, now=1001)
    assert not auth.cookie_valid("u" * 43, cookie, now=1001)  # a rotated token
    assert not auth.cookie_valid(TOKEN, cookie, now=1000 + auth.COOKIE_SECONDS + 1)
    version, expires, mac = cookie.split(".")
    later = str(int(expires) + 10**6)
    assert not auth.cookie_valid(TOKEN, f"{version}.{later}.{mac}", now=1001)  # extended
    for broken in ("", "v1", "v1.x.y", "v2." + cookie[3:], cookie + "0"):
        assert not auth.cookie_valid(TOKEN, broken, now=1001)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("posture.example.com", False),
    ],
)
def test_loopback(host, loopback):
    assert auth.is_loopback(host) is loopback


def test_loopback_gate_answers_only_loopback_names():
    gate = auth.Gate(TOKEN, port=8765, loopback=True, origins=[])
    assert gate.host_allowed("127.0.0.1:8765")
    assert gate.host_allowed("LOCALHOST:8765")
    assert gate.host_allowed("[::1]:8765")
    assert not gate.host_allowed("evil.example:8765")  # DNS rebinding
    assert not gate.host_allowed("127.0.0.1:9999")
    assert not gate.host_allowed(None)
    proxied = auth.Gate(TOKEN, port=8765, loopback=True, origins=["https://posture.example.com"])
    assert proxied.host_allowed("posture.example.com")
    assert auth.Gate(TOKEN, port=8765, loopback=False, origins=[]).host_allowed("anything")


def test_origin_must_be_this_server_or_named():
    gate = auth.Gate(TOKEN, port=8765, loopback=True, origins=["https://posture.example.com"])
    assert gate.origin_allowed("http://127.0.0.1:8765", "127.0.0.1:8765")
    assert gate.origin_allowed(None, "127.0.0.1:8765")  # not a browser: the token decides
    assert gate.origin_allowed("https://posture.example.com", "127.0.0.1:8765")
    assert gate.origin_allowed("https://posture.example.com:443", "127.0.0.1:8765")
    assert gate.origin_allowed("https://dash.example.com", "dash.example.com")
    assert not gate.origin_allowed("http://evil.example", "127.0.0.1:8765")
    assert not gate.origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8765")
    assert not gate.origin_allowed("null", "127.0.0.1:8765")
    assert not gate.origin_allowed("file://", "127.0.0.1:8765")


def test_gate_authenticates_cookie_or_bearer():
    gate = auth.Gate(TOKEN, port=8765, loopback=True, origins=[])
    assert gate.authenticated({gate.cookie: auth.make_cookie(TOKEN)}, None)
    assert gate.authenticated({}, f"Bearer {TOKEN}")
    assert not gate.authenticated({}, None)
    assert not gate.authenticated({"posture_serve_1": auth.make_cookie(TOKEN)}, None)
    assert not gate.authenticated({gate.cookie: auth.make_cookie("u" * 43)}, f"Bearer {TOKEN}x")


def test_server_side_imports_no_textual():
    code = (
        "import sys, postureapp.serve.server, postureapp.cli\n"
        "print(','.join(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
