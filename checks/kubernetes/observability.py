"""Cluster observability evidence: a log shipper on every node (a DaemonSet running Fluent
Bit, Fluentd, Vector, the OpenTelemetry Collector...) and a tracing backend or collector
(Jaeger, Tempo, Zipkin, the OpenTelemetry Collector, the X-Ray daemon).

Products are recognised from the image *names* (repository, not tag) of each workload's
pods and pod template; nothing is read from the containers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes.objects import PROVIDER, cluster_uid, scopes_of
from postureapp.domain.kubernetes.workloads import specs, workloads
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View

# Matched against the last path segment of the image repository.
LOG_SHIPPERS: dict[str, re.Pattern[str]] = {
    "Fluent Bit": re.compile(r"^(aws-for-)?fluent-?bit(-.*)?$"),
    "Fluentd": re.compile(r"^fluentd(-.*)?$"),
    "Vector": re.compile(r"^vector$"),
    "OpenTelemetry Collector": re.compile(
        r"^(opentelemetry-collector|otel-?col(lector)?|splunk-otel-collector)(-.*)?$"
    ),
    "Promtail": re.compile(r"^promtail$"),
    "Grafana Alloy": re.compile(r"^alloy$"),
    "Filebeat": re.compile(r"^filebeat(-.*)?$"),
}
TRACERS: dict[str, re.Pattern[str]] = {
    "Jaeger": re.compile(r"^jaeger(-.*)?$|^all-in-one$"),
    "Tempo": re.compile(r"^tempo(-.*)?$"),
    "Zipkin": re.compile(r"^zipkin(-.*)?$"),
    "OpenTelemetry Collector": LOG_SHIPPERS["OpenTelemetry Collector"],
    "AWS X-Ray daemon": re.compile(r"^(aws-)?xray-daemon$"),
}


def _repository_name(image: str) -> str:
    """``public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32@sha256:..`` ->
    ``aws-for-fluent-bit``."""
    name = image.split("@", 1)[0]
    head, _, tag = name.rpartition(":")
    if head and "/" not in tag:
        name = head
    return name.rsplit("/", 1)[-1].lower()


def recognise(image: str, products: dict[str, re.Pattern[str]]) -> str | None:
    repository = _repository_name(image)
    # jaegertracing/all-in-one is Jaeger; a bare "all-in-one" elsewhere is not.
    if repository == "all-in-one" and "jaegertracing/" not in image:
        return None
    return next(
        (product for product, pattern in products.items() if pattern.match(repository)), None
    )


def _found(
    inv: Inventory, scope: str, products: dict[str, re.Pattern[str]], daemonset: bool
) -> dict[str, list[str]]:
    """product -> workloads (``Kind ns/name``) running it, from templates and pods."""
    found: dict[str, set[str]] = defaultdict(set)
    for workload, pods in workloads(inv).items():
        if workload.scope != scope or (daemonset and workload.kind != "DaemonSet"):
            continue
        for _, spec in specs(workload, pods):
            for image in spec.get("images") or []:
                product = recognise(str(image), products)
                if product:
                    found[product].add(workload.label)
    return {product: sorted(names) for product, names in sorted(found.items())}


@check(
    id="k8s-gov-log-shipping",
    title="No log shipper on every node",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Run a log shipper as a DaemonSet so every node's container logs reach central storage
before the node (and the evidence) goes away: e.g. `helm install fluent-bit
fluent/fluent-bit`, AWS for Fluent Bit to CloudWatch Logs, Vector, or the OpenTelemetry
Collector's filelog receiver.""",
    frameworks={"ISO 27001:2022": ["A.8.15", "A.8.16"], "SOC 2": ["CC7.2"]},
    references=(
        "https://kubernetes.io/docs/concepts/cluster-administration/logging/#using-a-node-logging-agent",
    ),
    controls=("request-traceability",),
    no_benchmark="no CIS recommendation on log shipping",
)
def log_shipping(inv: Inventory) -> Iterator[Result]:
    """Per cluster: passes when a DaemonSet runs a known log shipper. A shipper run as a
    Deployment does not read every node's logs and does not count; other DaemonSets
    (CNI, kube-proxy) are not shippers."""
    for scope in scopes_of(inv, "Pod"):
        found = _found(inv, scope, LOG_SHIPPERS, daemonset=True)
        elsewhere = _found(inv, scope, LOG_SHIPPERS, daemonset=False)
        evidence = {"log_shippers": found}
        if found:
            products = ", ".join(f"{p} ({', '.join(w)})" for p, w in found.items())
            yield Result(
                cluster_uid(scope), Status.PASS, f"{scope}: logs shipped by {products}", evidence
            )
            continue
        detail = f"{scope}: no DaemonSet ships node logs"
        if elsewhere:
            evidence["not_daemonsets"] = elsewhere
            detail += f" ({', '.join(elsewhere)} runs, but not on every node)"
        yield Result(cluster_uid(scope), Status.FAIL, detail, evidence)


@check(
    id="k8s-gov-tracing",
    title="No distributed tracing in the cluster",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("Pod",),
    remediation="""
Deploy a trace collector and backend (the OpenTelemetry Collector exporting to Jaeger,
Tempo or AWS X-Ray) and have the services, or the mesh's proxies, propagate trace
context, so one request can be followed through every service it touched.""",
    frameworks={"ISO 27001:2022": ["A.8.16"], "SOC 2": ["CC7.2"]},
    references=("https://opentelemetry.io/docs/collector/deployment/",),
    controls=("request-traceability",),
    no_benchmark="no CIS recommendation on tracing",
)
def tracing(inv: Inventory) -> Iterator[Result]:
    """Per cluster: passes when any workload runs a known trace collector or backend."""
    for scope in scopes_of(inv, "Pod"):
        found = _found(inv, scope, TRACERS, daemonset=False)
        evidence = {"tracing": found}
        if found:
            products = ", ".join(f"{p} ({', '.join(w)})" for p, w in found.items())
            yield Result(
                cluster_uid(scope),
                Status.PASS,
                f"{scope}: traces collected by {products}",
                evidence,
            )
        else:
            yield Result(
                cluster_uid(scope),
                Status.FAIL,
                f"{scope}: no trace collector or backend runs",
                evidence,
            )
