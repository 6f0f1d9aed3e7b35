"""AWS collector benchmark: a large account in moto, collected three times.

Seeds moto (its own process, so the figures are the collector's) with 2,000 roles, 500
users, 1,000 access keys, 1,000 security groups and 300 secrets, then runs one full
collection per fresh child process (so each peak RSS is that collection's own) and
prints API calls (IAM separately: it must stay O(pages), far below one call per
principal), seconds and peak RSS, per run and as medians.

Run: ``python -m tests.benchmarks.bench_aws`` (the last stdout line is the medians as
JSON, the format ``tests/benchmarks/run.py`` reads). ``--runs N`` changes the count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ROLES = 2_000
USERS = 500
KEYS_PER_USER = 2  # 1,000 access keys
SECURITY_GROUPS = 1_000
SECRETS = 300
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAPOSTUREBENCH0001",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return server, endpoint
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("moto server did not start")


def seed(endpoint: str) -> None:
    """From one thread: moto's server can answer 500 to concurrent writes."""
    import boto3

    session = boto3.Session(**{"region_name": "us-east-1"})

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=endpoint)

    iam = client("iam")
    policy_arn = iam.create_policy(PolicyName="read-objects", PolicyDocument=POLICY)["Policy"][
        "Arn"
    ]
    for n in range(ROLES):
        iam.create_role(RoleName=f"svc-{n:04d}", AssumeRolePolicyDocument=TRUST)
        if n % 10 == 0:
            iam.attach_role_policy(RoleName=f"svc-{n:04d}", PolicyArn=policy_arn)
    for n in range(USERS):
        iam.create_user(UserName=f"user-{n:03d}")
        for _ in range(KEYS_PER_USER):
            iam.create_access_key(UserName=f"user-{n:03d}")
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for n in range(SECURITY_GROUPS):
        group = ec2.create_security_group(GroupName=f"sg-{n:04d}", Description="bench", VpcId=vpc)
        if n % 4 == 0:
            ec2.authorize_security_group_ingress(
                GroupId=group["GroupId"],
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    }
                ],
            )
    secrets = client("secretsmanager")
    for n in range(SECRETS):
        secrets.create_secret(Name=f"app/{n:03d}", SecretString="bench-value")


def collect_once(endpoint: str) -> dict[str, Any]:
    """One collection in this (fresh) process; figures as a dict."""
    from postureapp.collectors.aws import AwsCollector
    from postureapp.model import Target

    collector = AwsCollector()
    target = Target("aws", "default", {"endpoint_url": endpoint, "regions": ["us-east-1"]})
    started = time.perf_counter()
    result = collector.collect(target)
    seconds = time.perf_counter() - started
    judged = time.perf_counter()
    findings = _judge(result)
    check_seconds = time.perf_counter() - judged
    calls = collector.calls_by_service["default"]
    kinds: dict[str, int] = {}
    for item in result.resources:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "status": str(result.run.status),
        "api_calls": result.run.api_calls,
        "iam_calls": calls.get("iam", 0),
        "calls_by_service": calls,
        "resources": len(result.resources),
        "kinds": kinds,
        "unknown": sorted(result.run.unknown),
        "seconds": round(seconds, 2),
        "checks_seconds": round(check_seconds, 2),
        "findings": len(findings),
        "peak_rss_mb": round(peak, 1),
    }


def _judge(result) -> list:
    """Run the shipped checks on what was collected, as a poll does."""
    import postureapp.checks  # noqa: F401
    from postureapp.engine import Engine

    engine = Engine({})  # judging needs no store and no collector
    return engine.judge(result.resources, [result.run])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--collect", metavar="ENDPOINT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    if args.collect:
        print(json.dumps(collect_once(args.collect)))
        return

    server, endpoint = start_moto()
    try:
        started = time.perf_counter()
        seed(endpoint)
        print(
            f"seeded {ROLES} roles, {USERS} users, {USERS * KEYS_PER_USER} access keys, "
            f"{SECURITY_GROUPS} security groups, {SECRETS} secrets "
            f"in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
        runs = []
        for number in range(1, args.runs + 1):
            child = subprocess.run(
                [sys.executable, "-m", "tests.benchmarks.bench_aws", "--collect", endpoint],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            runs.append(figures)
            print(
                f"run {number}: {figures['api_calls']} API calls "
                f"(IAM {figures['iam_calls']}), {figures['seconds']}s, "
                f"peak RSS {figures['peak_rss_mb']} MB, {figures['resources']} resources, "
                f"status {figures['status']} {figures['unknown'] or ''}",
                file=sys.stderr,
            )
        print(f"calls by service (run 1): {runs[0]['calls_by_service']}", file=sys.stderr)
        print(f"resources by kind (run 1): {runs[0]['kinds']}", file=sys.stderr)
        medians = {
            key: statistics.median(run[key] for run in runs)
            for key in (
                "api_calls",
                "iam_calls",
                "resources",
                "seconds",
                "checks_seconds",
                "findings",
                "peak_rss_mb",
            )
        }
        medians["principals"] = ROLES + USERS
        print(json.dumps(medians))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
