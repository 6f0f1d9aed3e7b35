"""Who may see the served dashboard: the token, the session cookie derived from it, and
the Host and Origin checks. Pure functions, so each rule is tested on its own.

The token never travels in a URL the server sees: the printed address carries it in
the fragment (``#token=...``), which browsers keep to themselves (no server log, no
Referer). The page's script posts it once to ``/session`` and gets back an HttpOnly,
SameSite=Strict cookie holding an expiry and an HMAC of that expiry keyed by the token,
never the token itself. A reverse proxy may instead send ``Authorization: Bearer``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from postureapp.errors import InputError

TOKEN_ENV = "POSTURE_SERVE_TOKEN"
MIN_TOKEN_LENGTH = 20
COOKIE_SECONDS = 12 * 3600
_COOKIE_CONTEXT = b"postureapp serve cookie v1"


def new_token() -> str:
    """A random token: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def load_token(token_file: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The team token from ``--token-file`` or $POSTURE_SERVE_TOKEN; None when neither."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError(f"--token-file {token_file}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise InputError(f"--token-file {token_file}: not UTF-8 text") from None
        source = f"--token-file {token_file}"
    elif environ.get(TOKEN_ENV):
        text, source = environ[TOKEN_ENV], f"${TOKEN_ENV}"
    else:
        return None
    token = text.strip()
    if len(token) < MIN_TOKEN_LENGTH or any(not ch.isprintable() or ch.isspace() for ch in token):
        raise InputError(
            f"{source}: the token must be one word of at least {MIN_TOKEN_LENGTH} printable "
            "characters (make one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    return token


def loose_permissions(path: Path) -> bool:
    """True when a token file can be read by the group or others."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def token_matches(token: str, offered: str | None) -> bool:
    """Constant-time comparison of an offered token with the real one."""
    if not offered:
        return False
    return hmac.compare_digest(token.encode("utf-8"), offered.encode("utf-8", "replace"))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if that is what it is."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _mac(token: str, expires: int) -> str:
    message = _COOKIE_CONTEXT + b"\0" + str(expires).encode()
    return hmac.new(token.encode("utf-8"), message, hashlib.sha256).hexdigest()


def make_cookie(token: str, now: float | None = None) -> str:
    """The session cookie's value: an expiry and its HMAC keyed by the token."""
    expires = int((time.time() if now is None else now) + COOKIE_SECONDS)
    return f"v1.{expires}.{_mac(token, expires)}"


def cookie_valid(token: str, value: str | None, now: float | None = None) -> bool:
    """True for a cookie made by :func:`make_cookie` with this token and not expired."""
    if not value:
        return False
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit():
        return False
    expires = int(parts[1])
    good = hmac.compare_digest(_mac(token, expires).encode(), parts[2].encode("ascii", "replace"))
    return good and expires > (time.time() if now is None else now)


def cookie_name(port: int) -> str:
    """Browsers share cookies across the ports of one host: one name per server port,
    so two servers on 127.0.0.1 do not overwrite each other's session."""
    return f"posture_serve_{port}"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _netloc(host: str, scheme: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port."""
    host = host.strip().lower()
    default = {"http": ":80", "https": ":443", "ws": ":80", "wss": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return host


def origin_netloc(origin: str) -> str | None:
    """``host[:port]`` of an Origin header value; None for ``null`` or garbage."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return None
    return _netloc(parts.netloc, parts.scheme)


class Gate:
    """The server's access rules: which Host names it answers to and which Origins may
    open a session. Built once from the command line."""

    def __init__(self, token: str, *, port: int, loopback: bool, origins: list[str]) -> None:
        self.token = token
        self.cookie = cookie_name(port)
        self.loopback = loopback
        self.origins = {o for o in (origin_netloc(x) for x in origins) if o}
        self.hosts = set(self.origins)
        if loopback:
            self.hosts |= {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

    def host_allowed(self, host: str | None) -> bool:
        """On loopback only the loopback names (and --origin names) are answered, which
        defeats DNS rebinding; a public bind cannot know its names, so it answers all."""
        if not self.loopback:
            return True
        return host is not None and _netloc(host, "http") in self.hosts

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """A browser's Origin must be this server (as the browser addressed it) or one
        of --origin: a page elsewhere cannot open a session (cross-site WebSocket
        hijacking). Clients that send no Origin are not browsers; they need the token."""
        if origin is None:
            return True
        netloc = origin_netloc(origin)
        if netloc is None:
            return False
        if netloc in self.origins:
            return True
        return host is not None and netloc == _netloc(host, urlsplit(origin).scheme)

    def authenticated(self, cookies: dict[str, str], authorization: str | None) -> bool:
        """A valid session cookie or the token as a bearer header."""
        if cookie_valid(self.token, cookies.get(self.cookie)):
            return True
        return token_matches(self.token, bearer(authorization))
