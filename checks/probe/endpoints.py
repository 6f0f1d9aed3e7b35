"""What an attacker would see: the ``probe-*`` checks, on ``EndpointProbe`` resources.

Every finding hangs on the probe resource and names, in its evidence, the resources
that published the endpoint (``exposed_by``), so the Endpoints view can lead from
"answering without auth" to the Service or load balancer to fix. An endpoint that was
not probed (refused, out of budget), whose probe did not finish (abandoned at the
budget's end, or failed) or that did not answer is *unknown*: not seeing a
problem from here is not evidence that there is none.
"""

import re
from collections.abc import Iterator

from postureapp.checks.probe._common import (
    ADMIN_PATHS,
    DEBUG_PATHS,
    EXPOSURE,
    KUBE_API_PATH,
    OWASP_MISCONFIG,
    REQUIRES,
    not_seen,
    path_verdict,
    probe_evidence,
    probes_of,
)
from postureapp.checks.registry import Result, check
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View


@check(
    id="probe-admin-path-open",
    title="Admin interface answers without credentials",
    view=View.ENDPOINTS,
    severity=Severity.CRITICAL,
    provider="probe",
    requires=REQUIRES,
    remediation="Take the admin interface off the public listener (an internal load balancer "
    "or a separate port), or put authentication in front of it; a 401 or 403 is the answer "
    "an anonymous client must get.",
    frameworks=EXPOSURE,
    references=(OWASP_MISCONFIG,),
    controls=("no-exposed-admin-interfaces",),
)
def admin_path_open(inv: Inventory) -> Iterator[Result]:
    """``/admin``, ``/console`` or ``/actuator`` answered 200 to an anonymous GET."""
    for probe in probes_of(inv):
        yield not_seen(inv, probe) or path_verdict(
            inv, probe, ADMIN_PATHS, "anyone on the network gets the admin interface"
        )


@check(
    id="probe-debug-endpoint-exposed",
    title="Debug, configuration or Kubernetes API endpoint answers without credentials",
    view=View.ENDPOINTS,
    severity=Severity.CRITICAL,
    provider="probe",
    requires=REQUIRES,
    remediation="Disable debug and environment endpoints in production (Spring "
    "management.endpoints.web.exposure, net/http/pprof, mod_status), never serve "
    "dotfiles, and never expose the Kubernetes API to anonymous users.",
    frameworks=EXPOSURE,
    references=(
        OWASP_MISCONFIG,
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
    ),
    controls=("no-exposed-admin-interfaces",),
)
def debug_endpoint_exposed(inv: Inventory) -> Iterator[Result]:
    """Environment dumps, profilers, server status, ``.env`` files, metrics and the
    Kubernetes API answered 200 to an anonymous GET."""
    for probe in probes_of(inv):
        result = not_seen(inv, probe) or path_verdict(
            inv,
            probe,
            (*DEBUG_PATHS, KUBE_API_PATH),
            "configuration, secrets in the environment or internals are readable",
        )
        if (
            result.status is Status.FAIL
            and (probe.attrs.get("paths") or {}).get(KUBE_API_PATH) == 200
        ):
            result.title = "Kubernetes API answers anonymous requests"
        yield result


_VERSION = re.compile(r"\d+\.\d+")


@check(
    id="probe-banner-disclosure",
    title="Server or framework version disclosed in headers",
    view=View.ENDPOINTS,
    severity=Severity.LOW,
    provider="probe",
    requires=REQUIRES,
    remediation="Drop X-Powered-By and version numbers from Server (nginx server_tokens off, "
    "Express app.disable('x-powered-by')).",
    frameworks={"ISO 27001:2022": ["A.8.9"], "SOC 2": ["CC7.1"]},
)
def banner_disclosure(inv: Inventory) -> Iterator[Result]:
    """A versioned ``Server`` header or any ``X-Powered-By`` tells an attacker which
    exploits to try."""
    for probe in probes_of(inv):
        unseen = not_seen(inv, probe)
        if unseen:
            yield unseen
            continue
        banners = probe.attrs.get("banners") or {}
        evidence = probe_evidence(inv, probe, **banners)
        server, powered = banners.get("server"), banners.get("x_powered_by")
        leaks = []
        if server and _VERSION.search(server):
            leaks.append(f"Server: {server}")
        if powered:
            leaks.append(f"X-Powered-By: {powered}")
        if leaks:
            yield Result(
                probe,
                Status.FAIL,
                detail=f"{probe.attrs['url']} discloses {'; '.join(leaks)}",
                evidence=evidence,
            )
        else:
            yield Result(probe, Status.PASS, detail="no version disclosed", evidence=evidence)
