"""The SSRF guard: a probe goes only to public addresses unless private ones are allowed.

A host is resolved once; if *any* of its addresses is not globally routable (loopback,
private, link-local, carrier-grade NAT, reserved, multicast, unspecified), the endpoint
is refused — a name with one public and one private record is how a rebinding attack
starts. The prober then connects to the address checked here, never resolving again,
so DNS cannot change its answer between the check and the connection.

Cloud metadata addresses are refused even with private addresses allowed: nothing a
collector discovers should ever send the probe to this machine's own credentials.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254")
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where to connect, or why not."""

    addresses: tuple[str, ...]
    refused: str | None = None

    @property
    def connect_to(self) -> str | None:
        return None if self.refused or not self.addresses else self.addresses[0]


def _plain(address: Address) -> Address:
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def why_not_public(address: Address) -> str | None:
    """What makes an address non-public ("loopback", "private"...), or None."""
    address = _plain(address)
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
        if _plain(address) in METADATA_ADDRESSES:
            return Verdict(texts, f"{host} resolves to the cloud metadata address {address}")
        reason = why_not_public(address)
        if reason and not allow_private:
            return Verdict(
                texts,
                f"{host} resolves to {reason} address {address}; "
                "not probed without --probe-allow-private",
            )
    return Verdict(texts)
