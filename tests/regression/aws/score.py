"""Score the AWS regression bank: offline (the files through ``posture collect --from``'s
loader) and live (the same principals created in moto's IAM over HTTP, read by the AWS
collector), judged by the shipped checks; one table per mode, one row per category.

Columns: TP (expected fail, failed), FP (expected pass, failed), FN (expected fail,
passed), TN (expected pass, passed), no verdict (unknown or absent where a verdict was
expected). Labels expecting *unknown* (data really absent) are counted apart.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postureapp.model import Finding, Status
from tests.regression.aws.cases import Bank, Label, all_banks

COLUMNS = ("TP", "FP", "FN", "TN", "no verdict")


@dataclass
class Row:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    misses: list[str] = field(default_factory=list)
    unknown_ok: int = 0
    unknown_expected: int = 0

    def add(self, label: Label, status: Status | None) -> None:
        if label.expect == "unknown":
            self.unknown_expected += 1
            if status is Status.UNKNOWN:
                self.unknown_ok += 1
            else:
                self.misses.append(f"{label.case}: expected unknown, got {status}")
            return
        if status not in (Status.FAIL, Status.PASS):
            column = "no verdict"
        elif label.expect == "fail":
            column = "TP" if status is Status.FAIL else "FN"
        else:
            column = "TN" if status is Status.PASS else "FP"
        self.counts[column] += 1
        if column in ("FP", "FN", "no verdict"):
            self.misses.append(f"{label.case} ({label.check}, {label.principal}): {column}")

    @property
    def detection(self) -> float | None:
        positives = self.counts["TP"] + self.counts["FN"] + self.counts["no verdict"]
        return None if positives == 0 else self.counts["TP"] / positives


Table = dict[str, Row]


def _statuses(findings: list[Finding]) -> dict[tuple[str, str], Status]:
    return {(f.check_id, f.resource_uid): f.status for f in findings}


def _score(table: Table, bank: Bank, findings: list[Finding]) -> None:
    statuses = _statuses(findings)
    for label in bank.labels:
        row = table.setdefault(label.category, Row())
        row.add(label, statuses.get((label.check, label.principal)))


# -- offline ---------------------------------------------------------------------------------


def judge_offline(bank: Bank, folder: Path, strict_facts: bool = True) -> list[Finding]:
    """Write the bank's files and judge them the way ``posture collect --from`` does."""
    from postureapp.collectors.offline import OfflineCollector, offline_targets
    from postureapp.engine import Engine

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in bank.files().items():
        (folder / name).write_bytes(data)
    collector = OfflineCollector()
    results = [collector.collect(target) for target in offline_targets([folder])]
    if strict_facts:
        from tests.facts import assert_conforms

        assert_conforms(r for result in results for r in result.resources)
    engine = Engine({"offline": collector})
    return engine.judge(
        [r for result in results for r in result.resources], [result.run for result in results]
    )


def score_offline(banks: list[Bank]) -> Table:
    table: Table = {}
    with tempfile.TemporaryDirectory(prefix="posture-bank-") as tmp:
        for index, bank in enumerate(banks):
            _score(table, bank, judge_offline(bank, Path(tmp) / str(index)))
    return table


# -- live --------------------------------------------------------------------------------------


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 with AWS-managed policies loaded, and credentials that
    only it accepts; the environment is restored afterwards."""
    import logging

    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_ENV)
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "AWS_ACCESS_KEY_ID": "AKIAPOSTUREBANK00001",
    "AWS_SECRET_ACCESS_KEY": "posture-bank-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def replay(endpoint: str, details: dict[str, Any]) -> None:
    """Create the dump's policies, groups, users and roles in moto (reset first)."""
    import boto3

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    for policy in details.get("Policies", []):
        if ":iam::aws:policy/" in policy["Arn"]:
            continue  # AWS-managed: moto has them
        version = next(v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"])
        iam.create_policy(
            PolicyName=policy["PolicyName"],
            Path=policy.get("Path", "/"),
            PolicyDocument=json.dumps(version["Document"]),
        )
    for group in details.get("GroupDetailList", []):
        iam.create_group(GroupName=group["GroupName"])
        for inline in group.get("GroupPolicyList", []):
            iam.put_group_policy(
                GroupName=group["GroupName"],
                PolicyName=inline["PolicyName"],
                PolicyDocument=json.dumps(inline["PolicyDocument"]),
            )
        for attached in group.get("AttachedManagedPolicies", []):
            iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=attached["PolicyArn"])
    for user in details.get("UserDetailList", []):
        iam.create_user(UserName=user["UserName"])
        for inline in user.get("UserPolicyList", []):
            iam.put_user_policy(
                UserName=user["UserName"],
                PolicyName=inline["PolicyName"],
                PolicyDocument=json.dumps(inline["PolicyDocument"]),
            )
        for attached in user.get("AttachedManagedPolicies", []):
            iam.attach_user_policy(UserName=user["UserName"], PolicyArn=attached["PolicyArn"])
        for group in user.get("GroupList", []):
            iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
    for role in details.get("RoleDetailList", []):
        iam.create_role(
            RoleName=role["RoleName"],
            AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
        )
        for inline in role.get("RolePolicyList", []):
            iam.put_role_policy(
                RoleName=role["RoleName"],
                PolicyName=inline["PolicyName"],
                PolicyDocument=json.dumps(inline["PolicyDocument"]),
            )
        for attached in role.get("AttachedManagedPolicies", []):
            iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=attached["PolicyArn"])


def judge_live(endpoint: str, bank: Bank) -> list[Finding]:
    from postureapp.collectors.aws import AwsCollector
    from postureapp.engine import Engine
    from postureapp.model import Target

    replay(endpoint, bank.details)
    collector = AwsCollector()
    options = {"endpoint_url": endpoint, "services": ["iam"], "deadline": 300}
    result = collector.collect(Target(provider="aws", name="default", options=options))
    from tests.facts import assert_conforms

    assert_conforms(result.resources)
    return Engine({"aws": collector}).judge(result.resources, [result.run])


def score_live(banks: list[Bank]) -> Table:
    table: Table = {}
    with moto_server() as endpoint:
        for bank in banks:
            if bank.live:
                _score(table, bank, judge_live(endpoint, bank))
    return table


# -- the table ---------------------------------------------------------------------------------


def render(title: str, table: Table) -> str:
    """A Markdown table: one row per category, detection rate where there are positives."""
    lines = [
        f"**{title}**",
        "",
        "| category | TP | FP | FN | TN | no verdict | detection |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for category, row in sorted(table.items()):
        counts = [str(row.counts[column]) for column in COLUMNS]
        rate = "" if row.detection is None else f"{row.detection:.0%}"
        lines.append(f"| {category} | {' | '.join(counts)} | {rate} |")
        if row.unknown_expected:
            lines[-1] = lines[-1].replace(
                f"| {category} |",
                f"| {category} (+{row.unknown_ok}/{row.unknown_expected} rightly unknown) |",
            )
    return "\n".join(lines)


def misses(table: Table) -> list[str]:
    return [f"{category}: {miss}" for category, row in table.items() for miss in row.misses]


def main() -> int:
    banks = all_banks()
    tables = {"offline dumps": score_offline(banks), "live collection (moto)": score_live(banks)}
    failed = False
    for title, table in tables.items():
        print(render(title, table))
        print()
        for line in misses(table):
            print(f"  miss: {line}")
            failed = True
    return 1 if failed else 0
