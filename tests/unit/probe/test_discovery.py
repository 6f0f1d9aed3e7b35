"""Which endpoints the probe would visit, from small inventories; the SSRF guard; and
``--probe-url`` parsing. No network: names used here are IP literals or fail to parse."""

from __future__ import annotations

import pytest

from postureapp.checks.probe import endpoints as probe_checks
from postureapp.collectors.probe import prober
from postureapp.collectors.probe.discovery import discover, parse_probe_url
from postureapp.collectors.probe.guard import check_host, why_not_public
from postureapp.errors import InputError
from postureapp.inventory import Inventory
from postureapp.model import CollectorRun, Resource, RunStatus, k8s_uid


def _k8s(kind, name, attrs, ns="web"):
    return Resource(k8s_uid("prod", kind, name, ns), "kubernetes", "prod", kind, name, ns, attrs)


def _aws(kind, name, attrs):
    return Resource(f"arn:aws:{kind}/{name}", "aws", "123/eu-west-1", kind, name, "", attrs)


def _urls(inv, urls=()):
    endpoints, gaps = discover(inv, list(urls))
    return {e.url: sorted(e.exposed_by) for e in endpoints}, gaps


def test_load_balancer_services_by_ip_and_hostname_with_each_tcp_port():
    lb = _k8s(
        "Service",
        "shop",
        {
            "type": "LoadBalancer",
            "load_balancer_ingress": [{"ip": "203.0.113.7", "hostname": None}],
            "ports": [
                {"name": "web", "port": 80, "protocol": "TCP"},
                {"name": "https", "port": 8080, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        },
    )
    named = _k8s(
        "Service",
        "api",
        {
            "type": "LoadBalancer",
            "load_balancer_ingress": [{"ip": None, "hostname": "api.example.com"}],
            "ports": [{"name": "tcp", "port": 443, "protocol": "TCP"}],
        },
    )
    internal = _k8s("Service", "db", {"type": "ClusterIP", "ports": [{"port": 5432}]})
    pending = _k8s("Service", "new", {"type": "LoadBalancer", "ports": [{"port": 80}]})
    urls, gaps = _urls(Inventory([lb, named, internal, pending]))
    assert urls == {
        "http://203.0.113.7:80/": [lb.uid],
        "https://203.0.113.7:8080/": [lb.uid],  # the port's name says TLS
        "https://api.example.com:443/": [named.uid],
    }
    assert gaps == []


def test_ingress_hosts_over_http_and_tls_hosts_over_https_and_shared_endpoints_merge():
    ingress = _k8s(
        "Ingress",
        "shop",
        {
            "hosts": ["shop.example.com", "blog.example.com", "*.wild.example.com"],
            "tls": [{"hosts": ["shop.example.com"], "secret_name": "tls"}],
            "tls_hosts": ["shop.example.com"],
            "load_balancer_ingress": [{"ip": "203.0.113.9", "hostname": None}],
        },
    )
    lb = _k8s(
        "Service",
        "front",
        {
            "type": "LoadBalancer",
            "load_balancer_ingress": [{"hostname": "shop.example.com"}],
            "ports": [{"port": 443, "protocol": "TCP"}],
        },
    )
    urls, _ = _urls(Inventory([ingress, lb]))
    assert urls == {
        "http://shop.example.com:80/": [ingress.uid],
        "https://shop.example.com:443/": sorted([ingress.uid, lb.uid]),
        "http://blog.example.com:80/": [ingress.uid],
    }


def test_an_ingress_without_hosts_is_probed_on_its_address():
    ingress = _k8s(
        "Ingress",
        "catchall",
        {"hosts": ["*"], "tls": [], "load_balancer_ingress": [{"ip": "198.51.100.4"}]},
    )
    urls, _ = _urls(Inventory([ingress]))
    assert urls == {"http://198.51.100.4:80/": [ingress.uid]}


def test_alb_listeners_and_api_gateway_invoke_urls():
    alb = _aws(
        "LoadBalancer",
        "web",
        {
            "dns_name": "web-1.eu-west-1.elb.amazonaws.com",
            "listeners": [
                {"port": 80, "protocol": "HTTP"},
                {"port": 443, "protocol": "HTTPS"},
                {"port": 5432, "protocol": "TCP"},
            ],
        },
    )
    unread = _aws(
        "LoadBalancer", "blind", {"dns_name": "blind.elb.amazonaws.com", "listeners": None}
    )
    rest = _aws(
        "ApiGatewayRestApi",
        "orders",
        {
            "endpoint_types": ["REGIONAL"],
            "stages": [
                {
                    "name": "prod",
                    "invoke_url": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                }
            ],
        },
    )
    private = _aws(
        "ApiGatewayRestApi",
        "internal",
        {"endpoint_types": ["PRIVATE"], "stages": [{"invoke_url": "https://p.example/x"}]},
    )
    http_api = _aws(
        "ApiGatewayHttpApi",
        "events",
        {"api_endpoint": "https://def.execute-api.eu-west-1.amazonaws.com", "stages": None},
    )
    urls, gaps = _urls(Inventory([alb, unread, rest, private, http_api]))
    assert urls == {
        "http://web-1.eu-west-1.elb.amazonaws.com:80/": [alb.uid],
        "https://web-1.eu-west-1.elb.amazonaws.com:443/": [alb.uid],
        "https://abc.execute-api.eu-west-1.amazonaws.com:443/prod": [rest.uid],
        "https://def.execute-api.eu-west-1.amazonaws.com:443/": [http_api.uid],
    }
    assert any("blind" in gap for gap in gaps) and any("events" in gap for gap in gaps)


def test_gaps_name_failed_and_partial_collections():
    failed = CollectorRun("kubernetes", "prod", RunStatus.FAILED, scope="prod", error="401")
    partial = CollectorRun(
        "aws", "prod", RunStatus.PARTIAL, scope="123", unknown={"LoadBalancer": "denied"}
    )
    blind = CollectorRun("kubernetes", "gone", RunStatus.FAILED, error="no such context")
    _, gaps = _urls(Inventory([], runs=[failed, partial]))
    assert any("401" in gap for gap in gaps) and any("denied" in gap for gap in gaps)
    _, gaps = _urls(Inventory([], runs=[blind]))
    assert any("no such context" in gap for gap in gaps)
    # an ok run with a gap in a kind discovery does not read is no gap
    other = CollectorRun("aws", "prod", RunStatus.PARTIAL, scope="123", unknown={"User": "x"})
    assert _urls(Inventory([], runs=[other]))[1] == []


def test_probe_urls_parse_and_malformed_ones_are_input_errors():
    endpoint = parse_probe_url("https://Example.com:8443/app")
    assert (endpoint.scheme, endpoint.host, endpoint.port, endpoint.root) == (
        "https",
        "example.com",
        8443,
        "/app",
    )
    assert endpoint.uid == "probe://https/example.com:8443"
    assert parse_probe_url("http://[2001:db8::1]/").url == "http://[2001:db8::1]:80/"
    for bad in ("ftp://x/", "https://", "example.com", "http://h:99999/", "http://u:p@h/"):
        with pytest.raises(InputError, match="--probe-url"):
            parse_probe_url(bad)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not globally routable"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_the_guard_knows_private_ranges(address, reason):
    import ipaddress

    assert why_not_public(ipaddress.ip_address(address)) == reason


def test_the_guard_refuses_private_unless_allowed_and_metadata_always():
    refused = check_host("10.0.0.5", 80, allow_private=False)
    assert refused.connect_to is None and "--probe-allow-private" in refused.refused
    assert check_host("10.0.0.5", 80, allow_private=True).connect_to == "10.0.0.5"
    assert check_host("8.8.8.8", 443, allow_private=False).connect_to == "8.8.8.8"
    metadata = check_host("169.254.169.254", 80, allow_private=True)
    assert metadata.connect_to is None and "metadata" in metadata.refused
    # a name: resolved once, every address judged ("localhost" resolves locally)
    local = check_host("localhost", 80, allow_private=False)
    assert local.connect_to is None and "loopback" in local.refused
    assert "127.0.0.1" in local.addresses or "::1" in local.addresses


def test_hostname_matching_follows_rfc_6125():
    assert prober.hostname_matches("a.example.com", ["*.example.com"])
    assert not prober.hostname_matches("a.b.example.com", ["*.example.com"])
    assert not prober.hostname_matches("example.com", ["*.example.com"])
    assert prober.hostname_matches("Example.COM", ["example.com"])
    assert prober.hostname_matches("127.0.0.1", ["127.0.0.1"])
    assert not prober.hostname_matches("evil.com", ["example.com"])


def test_the_checks_judge_exactly_the_paths_the_prober_requests():
    judged = {*probe_checks.ADMIN_PATHS, *probe_checks.DEBUG_PATHS, probe_checks.KUBE_API_PATH}
    assert judged == set(prober.PROBED_PATHS)
