"""AWS observability evidence for "able to follow a request through every service": log
groups that keep logs for a deliberate time, X-Ray tracing on API Gateway stages, and EKS
control-plane logs beyond audit.

Reads the attrs documented in the AWS collector's ``logs``, ``apigateway`` and ``eks``
modules.
"""

from __future__ import annotations

from collections.abc import Iterator

from postureapp.checks.registry import Result, check
from postureapp.domain.aws.scopes import PROVIDER
from postureapp.domain.text import listing
from postureapp.domain.thresholds import threshold
from postureapp.facts import facts_of
from postureapp.facts.aws import ApiGatewayRestApiFacts, CloudWatchLogGroupFacts, EKSClusterFacts
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View

LOG_RETENTION_DAYS = 30
# api: every request to the API server; authenticator: which IAM identity made it.
EKS_TRACE_LOG_TYPES = ("api", "audit", "authenticator")


@check(
    id="aws-log-group-retention",
    title="CloudWatch log group kept forever or too briefly",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("CloudWatchLogGroup",),
    remediation=(
        "Set a retention that matches the investigation window and the records policy: "
        "`aws logs put-retention-policy --log-group-name NAME --retention-in-days 90`. "
        "Logs kept one day are gone before most incidents are noticed; logs that never "
        "expire keep personal data and secrets that leaked into them indefinitely."
    ),
    frameworks={
        "AWS FSBP": ["CloudWatch.16"],
        "ISO 27001:2022": ["A.8.15", "A.5.33"],
        "SOC 2": ["CC7.2"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention",
    ),
    controls=("request-traceability",),
)
def log_group_retention(inv: Inventory) -> Iterator[Result]:
    """Each log group's retention must be set ("never expire" fails) and at least
    ``log_retention_min_days`` (setting, default 30)."""
    minimum = threshold(inv, "log_retention_min_days", LOG_RETENTION_DAYS)
    for group in sorted(inv.of(PROVIDER, "CloudWatchLogGroup"), key=lambda r: r.uid):
        days = facts_of(group, CloudWatchLogGroupFacts).get("retention_days")
        name = f'log group "{group.name}"'
        evidence = {"retention_days": days, "minimum_days": minimum}
        if days is None:
            yield Result(group, Status.FAIL, f"{name} never expires its logs", evidence)
        elif days < minimum:
            yield Result(
                group,
                Status.FAIL,
                f"{name} keeps logs {days} day{'s' if days != 1 else ''} (less than {minimum})",
                evidence,
            )
        else:
            yield Result(group, Status.PASS, f"{name} keeps logs {days} days", evidence)


@check(
    id="aws-apigw-tracing",
    title="API Gateway REST stage without X-Ray tracing",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("ApiGatewayRestApi",),
    remediation=(
        "Turn on active tracing: `aws apigateway update-stage --rest-api-id ID "
        "--stage-name STAGE --patch-operations op=replace,path=/tracingEnabled,value=true`, "
        "and propagate the trace header to the services behind it."
    ),
    frameworks={"AWS FSBP": ["APIGateway.3"], "ISO 27001:2022": ["A.8.16"], "SOC 2": ["CC7.2"]},
    references=("https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html",),
    controls=("request-traceability",),
)
def apigw_tracing(inv: Inventory) -> Iterator[Result]:
    """Every stage of a REST API should have X-Ray active tracing (HTTP APIs cannot)."""
    for api in sorted(inv.of(PROVIDER, "ApiGatewayRestApi"), key=lambda r: r.uid):
        name = f'REST API "{api.name}" ({facts_of(api, ApiGatewayRestApiFacts).get("api_id")})'
        stages = facts_of(api, ApiGatewayRestApiFacts).get("stages")
        if stages is None:
            yield Result(api, Status.UNKNOWN, f"{name}: its stages could not be read")
            continue
        if not stages:
            continue
        untraced = sorted(str(s.get("name")) for s in stages if not s.get("tracing_enabled"))
        evidence = {"untraced_stages": untraced}
        if untraced:
            yield Result(
                api, Status.FAIL, f"{name}: no X-Ray tracing on {listing(untraced)}", evidence
            )
        else:
            yield Result(api, Status.PASS, f"{name}: every stage is traced with X-Ray", evidence)


@check(
    id="aws-eks-control-plane-logs",
    title="EKS cluster without API and authenticator logs",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("EKSCluster",),
    remediation=(
        "Enable the api, audit and authenticator control-plane logs: `aws eks "
        "update-cluster-config --name CLUSTER --logging "
        '\'{"clusterLogging":[{"types":["api","audit","authenticator"],"enabled":true}]}\'`.'
    ),
    frameworks={"AWS FSBP": ["EKS.8"], "ISO 27001:2022": ["A.8.15", "A.8.16"], "SOC 2": ["CC7.2"]},
    references=("https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",),
    controls=("request-traceability",),
)
def eks_control_plane_logs(inv: Inventory) -> Iterator[Result]:
    """A request through the cluster is followed in the api, audit and authenticator
    logs (which IAM identity became which Kubernetes user); each one missing fails."""
    for cluster in sorted(inv.of(PROVIDER, "EKSCluster"), key=lambda r: r.uid):
        enabled = sorted(facts_of(cluster, EKSClusterFacts).get("logging_enabled_types") or [])
        missing = [kind for kind in EKS_TRACE_LOG_TYPES if kind not in enabled]
        name = f'EKS cluster "{cluster.name}"'
        evidence = {"logging_enabled_types": enabled, "missing": missing}
        if missing:
            yield Result(
                cluster, Status.FAIL, f"{name} does not log {', '.join(missing)}", evidence
            )
        else:
            yield Result(cluster, Status.PASS, f"{name} logs {', '.join(enabled)}", evidence)
