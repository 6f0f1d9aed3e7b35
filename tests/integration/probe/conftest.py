"""Real local servers for the probe tests, started once per module and stopped after.

- ``valid``: HTTPS with a trustme certificate for localhost and 127.0.0.1, HSTS, 401 on
  the admin paths.
- ``expired``, ``self_signed``, ``wrong_name``: HTTPS with certificates made with
  ``cryptography`` (postureapp.demo.certs): expired from a trusted CA, self-signed, and
  a trusted one naming another host.
- ``tls11``: HTTPS that speaks TLS 1.1 at most.
- ``open_admin``: HTTP answering 200 on /admin and /metrics.
- ``denied``: HTTP answering 401 everywhere.
- ``hanging``: HTTP that accepts and never answers (released when the servers stop).
- ``redirect_away``: HTTP redirecting to ``elsewhere`` (another host name, localhost),
  which records any request that reaches it.
- ``hostile``: Server and X-Powered-By headers made of Rich markup and HTML.
- ``trickle``: HTTP that sends its headers a byte every 0.2 s and never finishes them,
  so no per-read timeout ever fires.
- ``sets_cookie``: HTTP whose ``/`` sets a session cookie, recording every request's
  headers.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from postureapp.demo.certs import CertificateAuthority, self_signed
from postureapp.demo.servers import LocalServers, Route, Site

HOSTILE_SERVER = "[bold red]pwned/1.0[/] <script>alert(1)</script>"
HOSTILE_POWERED = "<img src=x onerror=alert(2)>[link=https://evil.example]x[/link]"
SESSION_COOKIE = "session=granted-by-root"
ADMIN_DENIED = {
    path: Route(401, {"WWW-Authenticate": "Basic"})
    for path in (
        "/admin",
        "/console",
        "/actuator",
        "/actuator/env",
        "/debug/pprof/",
        "/server-status",
        "/.env",
        "/metrics",
        "/api/v1/namespaces",
    )
}


@dataclass
class Estate:
    servers: LocalServers
    ca_bundle: Path
    ports: dict[str, int]

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        tls = ("valid", "expired", "self_signed", "wrong_name", "tls11")
        scheme = "https" if name in tls else "http"
        return f"{scheme}://{host}:{self.ports[name]}/"

    def site(self, name: str) -> Site:
        return self.servers.sites[self.ports[name]]


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Estate:
    folder = tmp_path_factory.mktemp("probe-ca")
    trusted = trustme.CA()
    ours = CertificateAuthority("probe test CA")
    bundle = folder / "ca.pem"
    bundle.write_bytes(trusted.cert_pem.bytes() + ours.cert_pem)
    leaf = trusted.issue_cert("localhost", "127.0.0.1")
    valid_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(valid_context)
    with LocalServers() as servers:
        ports: dict[str, int] = {}
        ports["valid"] = servers.add(
            Site(
                routes={"/": Route(200), **ADMIN_DENIED},
                headers={"Strict-Transport-Security": "max-age=31536000"},
            ),
            tls=valid_context,
        )
        ports["expired"] = servers.add(
            Site(routes={"/": Route(200)}),
            tls=ours.issue(["localhost", "127.0.0.1"], days_valid=30, days_old=40).server_context(),
        )
        ports["self_signed"] = servers.add(
            Site(routes={"/": Route(200)}),
            tls=self_signed(["localhost", "127.0.0.1"]).server_context(),
        )
        ports["wrong_name"] = servers.add(
            Site(routes={"/": Route(200)}),
            tls=ours.issue(["other.example"]).server_context(),
        )
        legacy = ours.issue(["127.0.0.1"]).server_context()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # old TLS is the point
            legacy.minimum_version = ssl.TLSVersion.TLSv1
            legacy.maximum_version = ssl.TLSVersion.TLSv1_1
        legacy.set_ciphers("DEFAULT:@SECLEVEL=0")
        ports["tls11"] = servers.add(Site(routes={"/": Route(200)}), tls=legacy)
        ports["open_admin"] = servers.add(
            Site(routes={"/": Route(200), "/admin": Route(200), "/metrics": Route(200)})
        )
        ports["denied"] = servers.add(Site(default=Route(401, {"WWW-Authenticate": "Basic"})))
        ports["hanging"] = servers.add(Site(default=Route(hang=True)))
        ports["elsewhere"] = servers.add(Site(routes={"/": Route(200)}))
        ports["redirect_away"] = servers.add(
            Site(
                routes={
                    "/": Route(302, {"Location": f"http://localhost:{ports['elsewhere']}/"}),
                    "/admin": Route(302, {"Location": f"http://localhost:{ports['elsewhere']}/"}),
                }
            )
        )
        ports["hostile"] = servers.add(
            Site(
                routes={"/": Route(200)},
                headers={"Server": HOSTILE_SERVER, "X-Powered-By": HOSTILE_POWERED},
            )
        )
        ports["trickle"] = servers.add(Site(default=Route(trickle=0.2)))
        ports["sets_cookie"] = servers.add(
            Site(routes={"/": Route(200, {"Set-Cookie": f"{SESSION_COOKIE}; Path=/"})})
        )
        yield Estate(servers, bundle, ports)
