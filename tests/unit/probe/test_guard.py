"""The SSRF guard on IPv6 forms that carry an IPv4 address (6to4, NAT64, Teredo,
IPv4-mapped) and on the cloud metadata ranges, which stay refused with
--probe-allow-private. Literals only: no name is resolved."""

from __future__ import annotations

import ipaddress

import pytest

from postureapp.collectors.probe.guard import (
    check_host,
    embedded_ipv4,
    never_probed,
    why_not_public,
)

METADATA_V4 = "169.254.169.254"


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("2002:a9fe:a9fe::", ["169.254.169.254"]),  # 6to4
        ("64:ff9b::a9fe:a9fe", ["169.254.169.254"]),  # NAT64 (RFC 6052)
        # Teredo: server 8.8.8.8, client 169.254.169.254 stored inverted (RFC 4380)
        ("2001:0:808:808::5601:5601", ["8.8.8.8", "169.254.169.254"]),
        ("::ffff:169.254.169.254", ["169.254.169.254"]),
        ("2606:4700::1111", []),
        ("8.8.8.8", []),
    ],
)
def test_the_ipv4_inside_an_ipv6_address_is_found(address, inner):
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert [str(a) for a in found] == inner


@pytest.mark.parametrize(
    "address",
    [
        "2002:a9fe:a9fe::",  # 6to4 of IMDS: Python 3.11 calls it global
        "2002:a9fe:aa17::1",  # 6to4 of the EKS Pod Identity agent, 169.254.170.23
        "64:ff9b::a9fe:a9fe",  # NAT64 of IMDS
        "64:ff9b::169.254.170.2",  # NAT64 of ECS task credentials
        "2001:0:808:808::5601:5601",  # Teredo, client IMDS
        "2001:0:a9fe:a9fe::f7f7:f7f7",  # Teredo, server IMDS
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64: where the IPv4 sits is unknowable
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",  # EKS Pod Identity agent
        "169.254.169.253",  # Amazon DNS: same /24, refused with the range
        "fd00:ec2::254",
        "fd00:ec2::23",  # EKS Pod Identity agent, IPv6
        "::ffff:169.254.170.23",
        "100.100.100.200",  # Alibaba Cloud metadata
    ],
)
def test_metadata_in_any_form_is_refused_even_with_private_allowed(address):
    assert never_probed(ipaddress.ip_address(address))
    verdict = check_host(address, 80, allow_private=True)
    assert verdict.connect_to is None and "never probed" in verdict.refused
    assert "--probe-allow-private" not in verdict.refused  # the flag would not help
    assert check_host(address, 80, allow_private=False).connect_to is None


def test_embedded_metadata_is_named_in_the_refusal():
    verdict = check_host("2002:a9fe:a9fe::", 443, allow_private=True)
    assert "cloud metadata" in verdict.refused and METADATA_V4 in verdict.refused


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:a00:1::", "private (embeds 10.0.0.1)"),  # 6to4 of a private address
        ("2002:7f00:1::", "loopback (embeds 127.0.0.1)"),
        ("2002:808:808::", None),  # 6to4 of a public address is public
        ("64:ff9b::808:808", "reserved"),  # as Python 3.11 classifies NAT64 itself
        ("64:ff9b::a00:1", "reserved"),
    ],
)
def test_an_embedded_non_public_ipv4_makes_the_address_non_public(address, reason):
    assert why_not_public(ipaddress.ip_address(address)) == reason


def test_a_6to4_private_address_is_refused_without_allow_private_only():
    refused = check_host("2002:a00:1::", 80, allow_private=False)
    assert refused.connect_to is None
    assert "embeds 10.0.0.1" in refused.refused and "--probe-allow-private" in refused.refused
    assert check_host("2002:a00:1::", 80, allow_private=True).connect_to == "2002:a00:1::"
    assert check_host("2002:808:808::", 80, allow_private=False).connect_to == "2002:808:808::"


def test_nearby_link_local_addresses_stay_a_private_matter():
    # Outside the metadata ranges, link-local is refused by default and allowed on request.
    assert never_probed(ipaddress.ip_address("169.254.1.1")) is None
    assert check_host("169.254.1.1", 80, allow_private=False).connect_to is None
    assert check_host("169.254.1.1", 80, allow_private=True).connect_to == "169.254.1.1"
    assert check_host("fd00:ec3::23", 80, allow_private=True).connect_to == "fd00:ec3::23"
