"""Which endpoints to probe: only those the other collectors found, plus explicit URLs.

Never a scan: every endpoint comes from a resource's own published address (a
LoadBalancer Service's ingress IP or hostname and its ports, an Ingress' hosts, an
ELB's DNS name and listener ports, an API Gateway invoke URL) or from ``--probe-url``.
The same endpoint found through several resources is probed once and remembers them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postureapp.errors import InputError
from postureapp.inventory import Inventory

HTTPS_PORTS = frozenset({443, 8443, 9443})
# The kinds discovery reads; a gap in one of them means endpoints may be missing.
SOURCE_KINDS = {
    "kubernetes": ("Service", "Ingress"),
    "aws": ("LoadBalancer", "ApiGatewayRestApi", "ApiGatewayHttpApi"),
}


@dataclass(slots=True)
class Endpoint:
    """One origin to probe, and the resources that publish it."""

    scheme: str
    host: str
    port: int
    root: str = "/"
    exposed_by: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.lower(), self.port)

    @property
    def uid(self) -> str:
        return f"probe://{self.scheme}/{_netloc(self.host, self.port)}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{_netloc(self.host, self.port)}{self.root}"


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_probe_url(text: str) -> Endpoint:
    """An explicit ``--probe-url``: http(s), a host, an optional port and path.

    Raises:
        InputError: anything else, in one line.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as error:
        raise InputError(f"--probe-url {text!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--probe-url {text!r}: use http(s)://host[:port][/path]")
    if parts.username or parts.password:
        raise InputError(f"--probe-url {text!r}: credentials in the URL are not sent; remove them")
    port = port or (443 if parts.scheme == "https" else 80)
    return Endpoint(parts.scheme, parts.hostname, port, parts.path or "/")


def _scheme_for(port: int, name: str | None) -> str:
    # A Service port says nothing of its protocol but its number and name; these
    # conventions are what Kubernetes users write ("https", "web-tls"...).
    lowered = (name or "").lower()
    if port in HTTPS_PORTS or "https" in lowered or "tls" in lowered:
        return "https"
    return "http"


class _Found:
    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str, int], Endpoint] = {}

    def add(self, endpoint: Endpoint, uid: str | None) -> None:
        known = self.endpoints.setdefault(endpoint.key, endpoint)
        if uid and uid not in known.exposed_by:
            known.exposed_by.append(uid)


def _services(inv: Inventory, found: _Found) -> None:
    for service in inv.of("kubernetes", "Service"):
        attrs = service.attrs
        if attrs.get("type") != "LoadBalancer" and not attrs.get("external_ips"):
            continue
        hosts = [e.get("hostname") or e.get("ip") for e in attrs.get("load_balancer_ingress") or []]
        hosts += list(attrs.get("external_ips") or [])
        for host in filter(None, hosts):
            for port in attrs.get("ports") or []:
                if (port.get("protocol") or "TCP") != "TCP" or not port.get("port"):
                    continue
                number = int(port["port"])
                found.add(
                    Endpoint(_scheme_for(number, port.get("name")), host, number), service.uid
                )


def _ingresses(inv: Inventory, found: _Found) -> None:
    for ingress in inv.of("kubernetes", "Ingress"):
        attrs = ingress.attrs
        tls_hosts = set(attrs.get("tls_hosts") or [])
        hosts = [h for h in attrs.get("hosts") or [] if h and "*" not in h]
        if "*" in (attrs.get("hosts") or []) or not hosts:
            # A rule without a host answers on the controller's own address.
            ingress_hosts = [
                e.get("hostname") or e.get("ip") for e in attrs.get("load_balancer_ingress") or []
            ]
            hosts += [h for h in ingress_hosts if h]
        for host in hosts:
            found.add(Endpoint("http", host, 80), ingress.uid)
            if host in tls_hosts or (attrs.get("tls") and not tls_hosts):
                found.add(Endpoint("https", host, 443), ingress.uid)


def _load_balancers(inv: Inventory, found: _Found, gaps: list[str]) -> None:
    for lb in inv.of("aws", "LoadBalancer"):
        attrs = lb.attrs
        if not attrs.get("dns_name"):
            continue
        if attrs.get("listeners") is None:
            gaps.append(f"listeners of {attrs.get('name') or lb.name} could not be read")
            continue
        for listener in attrs["listeners"]:
            protocol = listener.get("protocol")
            scheme = {"HTTP": "http", "HTTPS": "https", "TLS": "https"}.get(protocol)
            if scheme and listener.get("port"):
                found.add(Endpoint(scheme, attrs["dns_name"], int(listener["port"])), lb.uid)


def _apis(inv: Inventory, found: _Found, gaps: list[str]) -> None:
    for kind in ("ApiGatewayRestApi", "ApiGatewayHttpApi"):
        for api in inv.of("aws", kind):
            attrs = api.attrs
            if attrs.get("disable_execute_api_endpoint") or "PRIVATE" in (
                attrs.get("endpoint_types") or []
            ):
                continue
            urls = [attrs.get("api_endpoint")]
            if attrs.get("stages") is None:
                gaps.append(f"stages of API {attrs.get('name') or api.name} could not be read")
            urls += [stage.get("invoke_url") for stage in attrs.get("stages") or []]
            for url in filter(None, urls):
                try:
                    endpoint = parse_probe_url(url)
                except InputError:
                    continue
                found.add(endpoint, api.uid)


def discover(inv: Inventory, urls: Iterable[str] = ()) -> tuple[list[Endpoint], list[str]]:
    """Endpoints published by the inventory's resources plus ``urls``; and the gaps:
    why some endpoints may be missing (a source kind or collector that was not read)."""
    found = _Found()
    gaps: list[str] = []
    for provider, kinds in SOURCE_KINDS.items():
        reasons = {inv.why_unknown(provider, scope, kinds) for scope in inv.scopes(provider)}
        gaps += sorted(reason for reason in reasons if reason)
        if provider in inv.blind_providers():
            gaps.append(inv.blind_providers()[provider])
    _services(inv, found)
    _ingresses(inv, found)
    _load_balancers(inv, found, gaps)
    _apis(inv, found, gaps)
    for url in urls:
        found.add(parse_probe_url(url), None)
    return list(found.endpoints.values()), list(dict.fromkeys(gaps))
