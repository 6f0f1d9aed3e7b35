"""End to end against moto's server: seed an account, collect it with the real AWS
collector, judge it with the engine, read the findings back from the store.

Reuses the AWS collector tests' fixtures as they are: a moto server on 127.0.0.1 reset
with AWS-managed policies loaded (``moto_managed``), AWS config in temporary files, the
developer's AWS_* variables removed.
"""

from __future__ import annotations

import json

import pytest

from postureapp.collectors.aws import AwsCollector
from postureapp.poll import Poller
from tests.integration.aws.conftest import (  # noqa: F401  (fixtures, reused as they are)
    ACCOUNT,
    aws_env,
    aws_files,
    moto_endpoint,
    moto_managed,
)

pytestmark = pytest.mark.slow

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def _seed(server) -> str:
    iam = server.client("iam")
    iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.attach_role_policy(
        RoleName="deploy", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(READ_ONLY))
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="ssh-open", Description="ssh", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SecurityGroupIds=[group["GroupId"]])
    return group["GroupId"]


def test_admin_role_and_world_open_ssh_are_found(moto_managed, store):  # noqa: F811
    group_id = _seed(moto_managed)
    engine = Poller(store, {"aws": AwsCollector()})
    result = engine.poll([moto_managed.target()])
    findings = {(f["check_id"], f["resource_uid"]): f for f in store.findings(result.snapshot_id)}

    deploy = findings[("aws-iam-admin-policy", f"arn:aws:iam::{ACCOUNT}:role/deploy")]
    assert deploy["status"] == "fail"
    assert deploy["severity"] == "critical"
    assert 'AWS-managed policy "AdministratorAccess"' in deploy["detail"]
    reader = findings[("aws-iam-admin-policy", f"arn:aws:iam::{ACCOUNT}:role/reader")]
    assert reader["status"] == "pass"

    group_uid = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group_id}"
    ssh = findings[("aws-ec2-sg-admin-ports-open", group_uid)]
    assert ssh["status"] == "fail"
    assert ssh["severity"] in ("high", "critical")
    assert "tcp 22 from 0.0.0.0/0" in ssh["detail"]

    assert not [f for f in findings.values() if f["status"] == "error"]
