"""The SSRF guard: a probe goes only to public addresses unless private ones are allowed.

A host is resolved once; if *any* of its addresses is not globally routable (loopback,
private, link-local, carrier-grade NAT, reserved, multicast, unspecified), the endpoint
is refused — a name with one public and one private record is how a rebinding attack
starts. The prober then connects to the address checked here, never resolving again,
so DNS cannot change its answer between the check and the connection.

An IPv6 address that carries an IPv4 one (IPv4-mapped ``::ffff:0:0/96``, 6to4
``2002::/16``, Teredo ``2001::/32``, NAT64 ``64:ff9b::/96``) is judged by the IPv4
addresses inside it as well as by itself: the network delivers it to the embedded
IPv4 address, and Python 3.11 calls ``2002:a9fe:a9fe::`` (169.254.169.254) global.
Local-use NAT64 (``64:ff9b:1::/48``) places the IPv4 address by prefix length, which
cannot be known from here, so it is refused like a metadata address.

Cloud metadata ranges are refused even with private addresses allowed: nothing a
collector discovers should ever send the probe to this machine's own credentials.
Whole ranges, not single addresses, because AWS keeps adding services there
(``169.254.169.254`` IMDS, ``169.254.170.2`` ECS credentials, ``169.254.170.23`` EKS
Pod Identity, ``fd00:ec2::254`` and ``fd00:ec2::23`` their IPv6 forms):
``169.254.169.0/24``, ``169.254.170.0/24``, ``fd00:ec2::/32``, plus Alibaba Cloud's
``100.100.100.200`` and Google Cloud's IPv6 ``fd20:ce::254``.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

METADATA_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.169.0/24",
        "169.254.170.0/24",
        "fd00:ec2::/32",
        "100.100.100.200/32",
        "fd20:ce::254/128",
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where to connect, or why not."""

    addresses: tuple[str, ...]
    refused: str | None = None

    @property
    def connect_to(self) -> str | None:
        return None if self.refused or not self.addresses else self.addresses[0]


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)  # server and (de-obfuscated) client
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _plain(address: Address) -> Address:
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _why_not_public(address: Address) -> str | None:
    for label, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return label
    return None if address.is_global else "not globally routable"


def why_not_public(address: Address) -> str | None:
    """What makes an address non-public ("loopback", "private"...), or None."""
    # IPv4-mapped keeps its plain IPv4 wording ("loopback", not "reserved").
    reason = _why_not_public(_plain(address))
    if reason:
        return reason
    for inner in embedded_ipv4(address):
        inner_reason = _why_not_public(inner)
        if inner_reason:
            return f"{inner_reason} (embeds {inner})"
    return None


def never_probed(address: Address) -> str | None:
    """Why ``address`` is refused even with private addresses allowed, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address in LOCAL_NAT64:
        return f"the local-use NAT64 address {address}, whose IPv4 target cannot be known"
    for candidate in (address, *embedded_ipv4(address)):
        if any(candidate in network for network in METADATA_NETWORKS):
            carried = "" if candidate == address else f" (embeds {candidate})"
            return f"the cloud metadata address {address}{carried}"
    return None


def check_host(host: str, port: int, *, allow_private: bool) -> Verdict:
    """Resolve ``host`` once and judge every address it has."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        found: list[Address] = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            return Verdict((), f"cannot resolve {host}: {error}")
        found = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in found:
                found.append(address)
    if not found:
        return Verdict((), f"{host} resolves to no address")
    texts = tuple(str(a) for a in found)
    for address in found:
        never = never_probed(address)
        if never:
            return Verdict(texts, f"{host} resolves to {never}; never probed")
        reason = why_not_public(address)
        if reason and not allow_private:
            return Verdict(
                texts,
                f"{host} resolves to {reason} address {address}; "
                "not probed without --probe-allow-private",
            )
    return Verdict(texts)
