"""Probe 500 loopback endpoints with the default concurrency (10) and timeout: the
issue's budget is < 10 s. The endpoints are LoadBalancer Services (a generated
inventory) in front of one local server process serving 500 ports: 450 plain HTTP,
50 HTTPS with certificates from a throwaway CA. Prints seconds and peak RSS.

The servers run in a child process, so they do not share the prober's interpreter lock.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

HTTP, HTTPS = 450, 50


def _serve(folder: str, ready, stop) -> None:
    from postureapp.demo.certs import CertificateAuthority
    from postureapp.demo.servers import LocalServers, Route, Site

    authority = CertificateAuthority("bench CA")
    authority.write_bundle(Path(folder) / "ca.pem")
    context = authority.issue(["127.0.0.1"]).server_context()
    with LocalServers() as servers:
        ports = []
        for index in range(HTTP + HTTPS):
            site = Site(routes={"/": Route(200), "/admin": Route(200 if index % 7 == 0 else 401)})
            ports.append((servers.add(site, tls=context if index >= HTTP else None), index >= HTTP))
        ready.send(ports)
        stop.wait()


def main() -> None:
    import postureapp.checks  # noqa: F401
    from postureapp.collectors.probe import ProbeCollector
    from postureapp.engine import Engine
    from postureapp.model import CollectorRun, Resource, RunStatus, Target, k8s_uid

    folder = tempfile.mkdtemp(prefix="bench-probe-")
    context = multiprocessing.get_context("spawn")
    ready, child_end = context.Pipe()
    stop = context.Event()
    server = context.Process(target=_serve, args=(folder, child_end, stop), daemon=True)
    server.start()
    try:
        ports = ready.recv()
        services = [
            Resource(
                k8s_uid("bench", "Service", f"svc-{port}", "ns"),
                "kubernetes",
                "bench",
                "Service",
                f"svc-{port}",
                "ns",
                {
                    "type": "LoadBalancer",
                    "load_balancer_ingress": [{"ip": "127.0.0.1"}],
                    "ports": [
                        {"name": "https" if tls else "http", "port": port, "protocol": "TCP"}
                    ],
                },
            )
            for port, tls in ports
        ]
        run = CollectorRun("kubernetes", "bench", RunStatus.OK, scope="bench")

        class Cluster:
            name = provider = "kubernetes"

            def collect(self, target):
                from postureapp.collectors.base import CollectResult

                return CollectResult(services, run)

        target = Target(
            "probe",
            "probe",
            {"allow_private": True, "ca_bundle": f"{folder}/ca.pem", "concurrency": 10},
        )
        engine = Engine({"kubernetes": Cluster(), "probe": ProbeCollector()})
        began = time.perf_counter()
        outcomes = engine.collect([Target("kubernetes", "bench"), target])
        probed = time.perf_counter() - began
        resources = [r for o in outcomes for r in o.resources]
        began = time.perf_counter()
        findings = engine.judge(resources, [o.run for o in outcomes])
        judged = time.perf_counter() - began
    finally:
        stop.set()
        server.join(10)
    probes = [r for r in resources if r.provider == "probe"]
    answered = sum(1 for r in probes if r.attrs.get("reachable"))
    failing_admin = sum(
        1 for f in findings if f.check_id == "probe-admin-path-open" and f.status.value == "fail"
    )
    figures = {
        "endpoints": len(probes),
        "answered": answered,
        "probe_seconds": round(probed, 2),
        "judge_seconds": round(judged, 3),
        "admin_open": failing_admin,
        "run": outcomes[1].run.status.value,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "budget_seconds": 10,
    }
    print(
        f"{figures['endpoints']} endpoints probed in {figures['probe_seconds']}s "
        f"({answered} answered), judged in {figures['judge_seconds']}s",
        file=sys.stderr,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
