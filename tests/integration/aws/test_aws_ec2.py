"""EC2 network exposure and regions against moto's server."""

from __future__ import annotations

from postureapp.collectors.aws import AwsCollector
from postureapp.model import RunStatus
from tests.integration.aws.conftest import ACCOUNT, EU_PROFILE, by_kind, one
from tests.integration.aws.faults import Fault, session_factory

EC2_ONLY = {"services": ["ec2"]}


def seed_network(moto, region: str = "us-east-1") -> dict[str, str]:
    ec2 = moto.client("ec2", region)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="public web", VpcId=vpc)
    app = ec2.create_security_group(GroupName="app", Description="app tier", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=web["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh from anywhere"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=app["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": web["GroupId"]}],
            }
        ],
    )
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SecurityGroupIds=[web["GroupId"]],
        SubnetId=subnet,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bastion"}]}
        ],
    )["Instances"][0]
    return {"web": web["GroupId"], "app": app["GroupId"], "instance": instance["InstanceId"]}


def test_security_groups_rules_and_users(moto):
    ids = seed_network(moto)
    moto.client("ec2").enable_ebs_encryption_by_default()

    result = moto.collect(**EC2_ONLY)

    assert result.run.status is RunStatus.OK, result.run.error
    where = f"{ACCOUNT}/us-east-1"
    web = one(result.resources, "SecurityGroup", "web")
    assert web.uid == f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{ids['web']}"
    assert web.scope == where
    ssh, internal = web.attrs["ingress"]
    assert ssh == {
        "protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
        "cidrs_v4": ["0.0.0.0/0"],
        "cidrs_v6": ["::/0"],
        "prefix_lists": [],
        "source_groups": [],
        "open_to_internet": True,
        "descriptions": ["ssh from anywhere"],
    }
    assert internal["protocol"] == "all"
    assert (internal["from_port"], internal["to_port"]) == (0, 65535)
    assert internal["open_to_internet"] is False
    assert web.attrs["used_by"]["instances"] == [ids["instance"]]
    assert len(web.attrs["used_by"]["network_interfaces"]) == 1

    app = one(result.resources, "SecurityGroup", "app")
    assert app.attrs["ingress"][0]["source_groups"][0]["group_id"] == ids["web"]
    assert app.attrs["used_by"] == {
        "network_interfaces": [],
        "instances": [],
        "interface_types": [],
    }

    bastion = one(result.resources, "EC2Instance", "bastion")
    assert bastion.attrs["public_ip"]
    assert bastion.attrs["security_groups"] == [ids["web"]]
    assert bastion.attrs["state"] == "running"
    eni = by_kind(result.resources, "NetworkInterface")[0]
    assert eni.attrs["instance_id"] == ids["instance"]
    assert eni.attrs["public_ip"] == bastion.attrs["public_ip"]

    ebs = by_kind(result.resources, "EBSEncryptionByDefault")[0]
    assert ebs.attrs == {"region": "us-east-1", "enabled": True}
    region = by_kind(result.resources, "AWSRegion")[0]
    assert region.uid == f"aws://{ACCOUNT}/us-east-1/AWSRegion/us-east-1"


def test_each_region_gets_its_own_scope(moto):
    seed_network(moto, "eu-west-1")

    result = moto.collect(regions=["us-east-1", "eu-west-1"], **EC2_ONLY)

    assert result.run.status is RunStatus.OK
    assert one(result.resources, "SecurityGroup", "web").scope == f"{ACCOUNT}/eu-west-1"
    ebs = {r.scope: r.attrs["enabled"] for r in by_kind(result.resources, "EBSEncryptionByDefault")}
    assert ebs == {f"{ACCOUNT}/us-east-1": False, f"{ACCOUNT}/eu-west-1": False}
    assert sorted(r.name for r in by_kind(result.resources, "AWSRegion")) == [
        "eu-west-1",
        "us-east-1",
    ]


def test_profile_region_is_the_default(moto):
    seed_network(moto, "eu-west-1")

    result = moto.collect(EU_PROFILE, **EC2_ONLY)

    assert result.run.status is RunStatus.OK
    assert [r.name for r in by_kind(result.resources, "AWSRegion")] == ["eu-west-1"]
    assert one(result.resources, "SecurityGroup", "web").scope == f"{ACCOUNT}/eu-west-1"


def test_all_regions_reads_every_enabled_region(moto):
    enabled = sorted(
        r["RegionName"]
        for r in moto.client("ec2").describe_regions()["Regions"]
        if r.get("OptInStatus") != "not-opted-in"
    )

    result = moto.collect(all_regions=True, services=["securityhub"])

    assert result.run.status is RunStatus.OK, result.run.error
    assert sorted(r.name for r in by_kind(result.resources, "AWSRegion")) == enabled
    assert len(by_kind(result.resources, "SecurityHub")) == len(enabled)


def test_denied_region_listing_falls_back_to_the_default_region(moto):
    fault = Fault("ec2", "DescribeRegions", status=403, code="UnauthorizedOperation")

    result = moto.collect(
        collector=AwsCollector(session_factory(fault)), all_regions=True, services=["securityhub"]
    )

    assert result.run.status is RunStatus.PARTIAL
    assert "ec2:DescribeRegions denied" in result.run.unknown["AWSRegion"]
    assert "read only us-east-1" in result.run.unknown["AWSRegion"]
    assert [r.name for r in by_kind(result.resources, "AWSRegion")] == ["us-east-1"]


def test_denied_security_groups_only_blind_that_kind(moto):
    seed_network(moto)
    fault = Fault("ec2", "DescribeSecurityGroups", status=403, code="UnauthorizedOperation")

    result = moto.collect(collector=AwsCollector(session_factory(fault)), **EC2_ONLY)

    assert result.run.status is RunStatus.PARTIAL
    assert result.run.unknown == {
        "SecurityGroup": "ec2:DescribeSecurityGroups denied in us-east-1 (UnauthorizedOperation)"
    }
    assert not by_kind(result.resources, "SecurityGroup")
    assert one(result.resources, "EC2Instance", "bastion")
    assert by_kind(result.resources, "NetworkInterface")
