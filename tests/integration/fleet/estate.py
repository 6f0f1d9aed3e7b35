"""An AWS organisation in moto's server, for the fleet tests and benchmark.

moto models Organizations (``CreateAccount`` makes the member account and its
``OrganizationAccountAccessRole``) and cross-account ``AssumeRole`` (the keys it hands out
act in the role's account), so every member account is reachable the way AWS does it.
The server runs as its own process (``python -m moto.server``): its state is its own,
and its CPU is not the test's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MANAGEMENT = "123456789012"  # moto's default account: the caller's, and the management
MANAGEMENT_KEY = "AKIAPOSTUREFLEET0001"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": MANAGEMENT_KEY,
    "AWS_SECRET_ACCESS_KEY": "fleet-test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class Endpoint(str):
    """moto's endpoint, and the process id of its server."""

    pid: int = 0


@contextmanager
def moto_process() -> Iterator[Endpoint]:
    """moto's server in a process of its own; yields its endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = Endpoint(f"http://127.0.0.1:{port}")
    endpoint.pid = server.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.2)  # polling a condition: the server answering
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a thread mid-request on a starved machine
            server.kill()
            server.wait(30)


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200


@dataclass
class Organization:
    endpoint: str
    management: str
    root: str
    ous: dict[str, str]  # path -> id
    accounts: dict[str, str]  # name -> id (members, the management account excluded)
    ou_of: dict[str, str] = field(default_factory=dict)  # account id -> OU path
    suspended: list[str] = field(default_factory=list)

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        """A client acting in ``account`` (through its role) or the management account."""
        return self.session(account, region).client(service, endpoint_url=self.endpoint)

    def session(self, account: str | None = None, region: str = "us-east-1") -> Any:
        """A session in ``account`` (through its role) or the management account."""
        import boto3

        from postureapp.collectors.aws.collector import share_models

        session = boto3.Session(
            aws_access_key_id=MANAGEMENT_KEY,
            aws_secret_access_key="fleet-test",
            region_name=region,
        )
        share_models(session)
        if account and account != self.management:
            sts = session.client("sts", endpoint_url=self.endpoint)
            answer = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                RoleSessionName="seed",
            )["Credentials"]
            session = boto3.Session(
                aws_access_key_id=answer["AccessKeyId"],
                aws_secret_access_key=answer["SecretAccessKey"],
                aws_session_token=answer["SessionToken"],
                region_name=region,
            )
            share_models(session)
        return session


def seed_organization(
    endpoint: str, members: int = 22, suspended: int = 1, typical: bool = False
) -> Organization:
    """An organisation: the management account, ``members`` active member accounts in
    three OUs (``Root``, ``Root/Prod``, ``Root/Prod/EU``, ``Root/Sandbox``) and
    ``suspended`` closed ones. ``typical``: each member gets what a small account has
    (roles, a user with a key, security groups, a bucket, a secret)."""
    org = Organization(endpoint, MANAGEMENT, "", {}, {})
    client = org.client("organizations")
    client.create_organization(FeatureSet="ALL")
    org.root = client.list_roots()["Roots"][0]["Id"]
    org.ous["Root"] = org.root
    for path in ("Root/Prod", "Root/Prod/EU", "Root/Sandbox"):
        parent, _, name = path.rpartition("/")
        org.ous[path] = client.create_organizational_unit(ParentId=org.ous[parent], Name=name)[
            "OrganizationalUnit"
        ]["Id"]
    placement = ["Root", "Root/Prod", "Root/Prod/EU", "Root/Sandbox"]
    for index in range(members + suspended):
        name = f"member-{index:03d}"
        status = client.create_account(AccountName=name, Email=f"{name}@example.com")
        account = status["CreateAccountStatus"]["AccountId"]
        path = placement[index % len(placement)]
        if path != "Root":
            client.move_account(
                AccountId=account, SourceParentId=org.root, DestinationParentId=org.ous[path]
            )
        org.ou_of[account] = path
        if index >= members:
            client.close_account(AccountId=account)
            org.suspended.append(account)
        else:
            org.accounts[name] = account
    if typical:
        for account in org.accounts.values():
            seed_typical_account(org, account)
    return org


def seed_typical_account(org: Organization, account: str, regions=("us-east-1",)) -> None:
    """A small account: three roles (one trusted by the management account without an
    ExternalId), a user with an access key, two security groups (one open on SSH), a
    bucket and a secret per region."""
    session = org.session(account)
    iam = session.client("iam", endpoint_url=org.endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for name in ("app", "worker"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    trust["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{org.management}:root"}
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_user(UserName="ci")
    iam.create_access_key(UserName="ci")
    for region in regions:
        ec2 = session.client("ec2", region_name=region, endpoint_url=org.endpoint)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        open_ssh = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)
        ec2.authorize_security_group_ingress(
            GroupId=open_ssh["GroupId"],
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )
        ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)
        secrets = session.client("secretsmanager", region_name=region, endpoint_url=org.endpoint)
        secrets.create_secret(Name=f"db-{region}", SecretString="not-read-by-posture")
    s3 = session.client("s3", endpoint_url=org.endpoint)
    s3.create_bucket(Bucket=f"logs-{account}")
