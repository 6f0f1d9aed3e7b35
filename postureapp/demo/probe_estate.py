"""The demo's live endpoints: real local HTTP and HTTPS servers behind some of the demo
cluster's LoadBalancer Services, so the probe has something true to find.

* ``argocd-server`` (platform): plain HTTP, ``/admin`` and ``/actuator/env`` answer 200
  to anyone, and the banners name the versions.
* ``storefront`` (shop): HTTPS with a certificate that expires in ten days, no HSTS.
* ``reports-ui`` (data): what good looks like from outside — a trusted certificate,
  HSTS, 401 on every admin path (its problem is the identity behind it).
* ``grafana-public`` (added by the story): plain HTTP with ``/metrics`` open.

Certificates come from a demo CA made at start; the probe trusts it through its CA
bundle option, as a user would with ``--probe-ca-bundle``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from postureapp.demo.certs import CertificateAuthority
from postureapp.demo.kube_estate import Endpoints, Served
from postureapp.demo.servers import LocalServers, Route, Site

ADDRESS = "127.0.0.1"
_ADMIN_PATHS = ("/admin", "/console", "/actuator", "/actuator/env", "/debug/pprof/", "/metrics")


@dataclass
class DemoSites:
    """The running servers, what each Service serves, and the CA bundle to trust."""

    servers: LocalServers
    ca_bundle: Path
    served: Endpoints = field(default_factory=dict)
    grafana: Served | None = None

    def stop(self) -> None:
        self.servers.stop()


def start(folder: Path) -> DemoSites:
    """Start the demo's sites on free loopback ports; ``folder`` receives the CA bundle."""
    authority = CertificateAuthority("postureapp demo CA")
    servers = LocalServers()
    try:
        sites = DemoSites(servers, authority.write_bundle(folder / "demo-ca.pem"))
        argocd = Site(
            routes={
                "/": Route(200),
                "/admin": Route(200),
                "/actuator/env": Route(200, {"Content-Type": "application/json"}),
            },
            headers={"Server": "nginx/1.18.0", "X-Powered-By": "Express"},
        )
        sites.served["argocd-server"] = (ADDRESS, servers.add(argocd), "http")
        # issued 80 days ago for 90 days: ten days left, inside the 30-day warning
        shop_cert = authority.issue([ADDRESS], days_valid=90, days_old=80)
        shop = Site(routes={"/": Route(200)}, headers={"Server": "nginx"})
        sites.served["storefront"] = (
            ADDRESS,
            servers.add(shop, tls=shop_cert.server_context()),
            "https",
        )
        denied = {path: Route(401, {"WWW-Authenticate": "Bearer"}) for path in _ADMIN_PATHS}
        reports = Site(
            routes={"/": Route(200), **denied},
            default=Route(401, {"WWW-Authenticate": "Bearer"}),
            headers={"Strict-Transport-Security": "max-age=31536000; includeSubDomains"},
        )
        reports_cert = authority.issue([ADDRESS], days_valid=365)
        sites.served["reports-ui"] = (
            ADDRESS,
            servers.add(reports, tls=reports_cert.server_context()),
            "https",
        )
        grafana = Site(
            routes={"/": Route(302, {"Location": "/login"}), "/metrics": Route(200)},
            headers={"Server": "grafana"},
        )
        sites.grafana = (ADDRESS, servers.add(grafana), "http")
    except BaseException:
        servers.stop()
        raise
    return sites
