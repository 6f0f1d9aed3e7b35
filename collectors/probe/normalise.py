"""Probe results as resources: the attrs contract the ``probe-*`` checks read.

Kind ``EndpointProbe``, provider ``probe``, scope ``probe``, uid
``probe://<scheme>/<host>:<port>`` (stable across polls), name the URL probed.

``attrs``:

- ``url``, ``scheme`` ("http" | "https"), ``host``, ``port`` (int), ``root`` (the path
  probed as the root, ``/`` unless a ``--probe-url`` named one).
- ``exposed_by``: uids of the resources that publish this endpoint (Service, Ingress,
  ELB, API Gateway API); ``[]`` for a ``--probe-url``.
- ``skipped``: why it was not probed (refused by the SSRF guard, name not resolving,
  the budget ran out before it started) or None.
- ``addresses``: every address the host resolved to; ``address``: the one connected to.
- ``reachable``: True when an HTTP answer came back, False when none did (``error``
  says why), None when the probe did not get that far: skipped, abandoned at the
  budget's end, or failed (``incomplete`` and ``error`` say which).
- ``error``: why no answer came back, or, with ``reachable`` None, what went wrong in
  the prober itself on this endpoint ("the probe failed: ValueError: ...").
- ``status``: the root's HTTP status.
- ``redirect``: {status, location, to_https, same_host} when the root redirects, else None.
- ``hsts``: the Strict-Transport-Security value over HTTPS (None: absent or plain HTTP).
- ``tls`` (HTTPS only, else None): {version ("TLSv1.3"...), verified (bool: the chain
  and name verified), verify_error (str | None), error (a handshake failure, or
  "unreadable certificate: ..." when the certificate served cannot be parsed), subject,
  issuer, sans, not_before, not_after (ISO 8601), days_left (at probe time),
  self_signed, hostname_matches}; certificate keys absent when none could be read.
- ``paths``: {path: status | None} for the admin, debug and Kubernetes API paths
  (None: no answer); ``catch_all``: a random path answered 200 too, so a 200 there
  proves nothing.
- ``banners``: {server, x_powered_by}; ``rate_limit``: {header: value} for
  ``X-RateLimit-*``, ``RateLimit-*`` and ``Retry-After``.
- ``incomplete``: why some requests were not made, or None. The budget ran out
  between requests (what was seen before is kept), or while a request was in flight:
  the endpoint was then abandoned and nothing else about it is recorded (a result
  half-written by a thread being stopped is not evidence). "the probe stopped on an
  error" goes with ``error``. Every check is *unknown* when ``reachable`` is None.

Response bodies are never read or stored, and no other header is kept; header values
are cut to 200 characters and are outside-world data (escape them when displaying).
"""

from __future__ import annotations

from typing import Any

from postureapp.collectors.probe.discovery import Endpoint
from postureapp.model import Resource

KIND = "EndpointProbe"
SCOPE = "probe"


def to_resource(endpoint: Endpoint, facts: dict[str, Any]) -> Resource:
    """One probed (or skipped) endpoint as a resource."""
    attrs = {
        "url": endpoint.url,
        "scheme": endpoint.scheme,
        "host": endpoint.host,
        "port": endpoint.port,
        "root": endpoint.root,
        "exposed_by": sorted(endpoint.exposed_by),
        **facts,
    }
    return Resource(
        uid=endpoint.uid,
        provider="probe",
        scope=SCOPE,
        kind=KIND,
        name=endpoint.url,
        attrs=attrs,
    )
