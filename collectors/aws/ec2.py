"""EC2 network exposure: security groups (and what uses them), network interfaces,
instances, plus EBS encryption by default. One unit per region.

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``SecurityGroup`` (uid: ``arn:{partition}:ec2:{region}:{account}:security-group/{id}``)
    group_id, group_name, description, vpc_id, owner_id, is_default: bool (named
    "default"), tags,
    ingress, egress: [rule], one rule per IpPermission:
        {"protocol": "tcp"|"udp"|"icmp"|"icmpv6"|"all"|<protocol number>,
         "from_port": int|null, "to_port": int|null,   # 0-65535 for "all" and for
                                                        # tcp/udp without ports; ICMP
                                                        # type/code as given (-1 = any)
         "cidrs_v4": [cidr], "cidrs_v6": [cidr], "prefix_lists": [id],
         "source_groups": [{"group_id", "user_id", "vpc_id"}],
         "open_to_internet": bool,                      # 0.0.0.0/0 or ::/0 present
         "descriptions": [text]}                        # sorted, deduplicated
    used_by: null when network interfaces could not be read, else
        {"network_interfaces": [eni id], "instances": [instance id],
         "interface_types": [type]}  (all sorted)

``NetworkInterface`` (uid: ``arn:{partition}:ec2:{region}:{account}:network-interface/{id}``)
    network_interface_id, interface_type, status, description, vpc_id, subnet_id,
    private_ip, public_ip: str|null, public_dns: str|null, security_groups: [group id],
    instance_id: str|null, requester_managed: bool, requester_id: str|null

``EC2Instance`` (uid: ``arn:{partition}:ec2:{region}:{account}:instance/{id}``;
terminated instances are skipped)
    instance_id, name (Name tag or ""), state, instance_type, image_id, vpc_id,
    subnet_id, private_ip, public_ip: str|null, public_dns: str|null,
    security_groups: [group id], network_interfaces: [eni id],
    iam_instance_profile: ARN|null,
    metadata_options: {"http_tokens": "required"|"optional"|null,
                       "http_endpoint": "enabled"|"disabled"|null,
                       "http_put_response_hop_limit": int|null},
    launch_time, tags

``EBSEncryptionByDefault`` (uid: ``aws://{account}/{region}/EBSEncryptionByDefault/default``)
    region, enabled: bool
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from postureapp.collectors.aws._common import as_list, fallback_uid, iso, scope, tags_dict
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("SecurityGroup", "NetworkInterface", "EC2Instance", "EBSEncryptionByDefault")

_PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_WORLD = {"0.0.0.0/0", "::/0"}


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    return [Unit(f"ec2 {region}", KINDS, partial(_region, ctx, region)) for region in regions]


def normalise_rule(permission: Mapping[str, Any]) -> dict[str, Any]:
    """One IpPermission in the documented rule shape."""
    raw_protocol = str(permission.get("IpProtocol", "-1")).lower()
    protocol = _PROTOCOLS.get(raw_protocol, raw_protocol)
    from_port = permission.get("FromPort")
    to_port = permission.get("ToPort")
    if protocol == "all" or (protocol in ("tcp", "udp") and from_port in (None, -1)):
        from_port, to_port = 0, 65535
    cidrs_v4 = sorted({r["CidrIp"] for r in as_list(permission.get("IpRanges")) if "CidrIp" in r})
    cidrs_v6 = sorted(
        {r["CidrIpv6"] for r in as_list(permission.get("Ipv6Ranges")) if "CidrIpv6" in r}
    )
    descriptions = {
        r["Description"]
        for key in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")
        for r in as_list(permission.get(key))
        if r.get("Description")
    }
    return {
        "protocol": protocol,
        "from_port": None if from_port is None else int(from_port),
        "to_port": None if to_port is None else int(to_port),
        "cidrs_v4": cidrs_v4,
        "cidrs_v6": cidrs_v6,
        "prefix_lists": sorted(
            {p["PrefixListId"] for p in as_list(permission.get("PrefixListIds")) if p}
        ),
        "source_groups": sorted(
            (
                {
                    "group_id": pair.get("GroupId"),
                    "user_id": pair.get("UserId"),
                    "vpc_id": pair.get("VpcId"),
                }
                for pair in as_list(permission.get("UserIdGroupPairs"))
            ),
            key=lambda pair: (pair["group_id"] or "", pair["user_id"] or ""),
        ),
        "open_to_internet": bool(_WORLD & (set(cidrs_v4) | set(cidrs_v6))),
        "descriptions": sorted(descriptions),
    }


def _region(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("ec2", region)
    where = scope(ctx.account, region)
    resources: list[Resource] = []
    groups: list[Resource] = []
    enis: list[dict[str, Any]] | None = None

    def arn(kind: str, ident: str) -> str:
        return f"arn:{ctx.partition}:ec2:{region}:{ctx.account}:{kind}/{ident}"

    with ctx.reading("SecurityGroup"):
        found = []
        for page in ctx.pages(
            client, "describe_security_groups", marker_in="NextToken", MaxResults=1000
        ):
            for group in page.get("SecurityGroups", []):
                attrs = {
                    "group_id": group["GroupId"],
                    "group_name": group.get("GroupName", ""),
                    "description": group.get("Description", ""),
                    "vpc_id": group.get("VpcId"),
                    "owner_id": group.get("OwnerId"),
                    "is_default": group.get("GroupName") == "default",
                    "tags": tags_dict(group.get("Tags")),
                    "ingress": [normalise_rule(p) for p in group.get("IpPermissions", [])],
                    "egress": [normalise_rule(p) for p in group.get("IpPermissionsEgress", [])],
                    "used_by": None,
                }
                found.append(
                    Resource(
                        uid=arn("security-group", group["GroupId"]),
                        provider="aws",
                        scope=where,
                        kind="SecurityGroup",
                        name=group.get("GroupName") or group["GroupId"],
                        attrs=attrs,
                    )
                )
        groups = found

    with ctx.reading("NetworkInterface"):
        found_enis = []
        for page in ctx.pages(
            client, "describe_network_interfaces", marker_in="NextToken", MaxResults=1000
        ):
            found_enis.extend(page.get("NetworkInterfaces", []))
        enis = found_enis
        for eni in enis:
            association = eni.get("Association") or {}
            attachment = eni.get("Attachment") or {}
            attrs = {
                "network_interface_id": eni["NetworkInterfaceId"],
                "interface_type": eni.get("InterfaceType", "interface"),
                "status": eni.get("Status"),
                "description": eni.get("Description", ""),
                "vpc_id": eni.get("VpcId"),
                "subnet_id": eni.get("SubnetId"),
                "private_ip": eni.get("PrivateIpAddress"),
                "public_ip": association.get("PublicIp"),
                "public_dns": association.get("PublicDnsName") or None,
                "security_groups": sorted(g["GroupId"] for g in eni.get("Groups", [])),
                "instance_id": attachment.get("InstanceId"),
                "requester_managed": bool(eni.get("RequesterManaged", False)),
                "requester_id": eni.get("RequesterId"),
            }
            resources.append(
                Resource(
                    uid=arn("network-interface", eni["NetworkInterfaceId"]),
                    provider="aws",
                    scope=where,
                    kind="NetworkInterface",
                    name=eni["NetworkInterfaceId"],
                    attrs=attrs,
                )
            )

    if enis is not None:
        usage: dict[str, dict[str, set[str]]] = {}
        for eni in enis:
            instance = (eni.get("Attachment") or {}).get("InstanceId")
            for group in eni.get("Groups", []):
                entry = usage.setdefault(
                    group["GroupId"],
                    {"network_interfaces": set(), "instances": set(), "types": set()},
                )
                entry["network_interfaces"].add(eni["NetworkInterfaceId"])
                entry["types"].add(eni.get("InterfaceType", "interface"))
                if instance:
                    entry["instances"].add(instance)
        for group in groups:
            entry = usage.get(group.attrs["group_id"], {})
            group.attrs["used_by"] = {
                "network_interfaces": sorted(entry.get("network_interfaces", ())),
                "instances": sorted(entry.get("instances", ())),
                "interface_types": sorted(entry.get("types", ())),
            }
    resources.extend(groups)

    with ctx.reading("EC2Instance"):
        found = []
        for page in ctx.pages(client, "describe_instances", marker_in="NextToken", MaxResults=1000):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    if (instance.get("State") or {}).get("Name") == "terminated":
                        continue
                    found.append(
                        _instance(instance, where, arn("instance", instance["InstanceId"]))
                    )
        resources.extend(found)

    with ctx.reading("EBSEncryptionByDefault"):
        answer = ctx.call(client, "get_ebs_encryption_by_default") or {}
        resources.append(
            Resource(
                uid=fallback_uid(ctx.account, region, "EBSEncryptionByDefault", "default"),
                provider="aws",
                scope=where,
                kind="EBSEncryptionByDefault",
                name=f"EBS encryption by default ({region})",
                attrs={"region": region, "enabled": bool(answer.get("EbsEncryptionByDefault"))},
            )
        )
    return resources


def _instance(instance: Mapping[str, Any], where: str, uid: str) -> Resource:
    tags = tags_dict(instance.get("Tags"))
    metadata = instance.get("MetadataOptions") or {}
    profile = instance.get("IamInstanceProfile") or {}
    attrs = {
        "instance_id": instance["InstanceId"],
        "name": tags.get("Name", ""),
        "state": (instance.get("State") or {}).get("Name"),
        "instance_type": instance.get("InstanceType"),
        "image_id": instance.get("ImageId"),
        "vpc_id": instance.get("VpcId"),
        "subnet_id": instance.get("SubnetId"),
        "private_ip": instance.get("PrivateIpAddress"),
        "public_ip": instance.get("PublicIpAddress"),
        "public_dns": instance.get("PublicDnsName") or None,
        "security_groups": sorted(g["GroupId"] for g in instance.get("SecurityGroups", [])),
        "network_interfaces": sorted(
            n["NetworkInterfaceId"] for n in instance.get("NetworkInterfaces", [])
        ),
        "iam_instance_profile": profile.get("Arn"),
        "metadata_options": {
            "http_tokens": metadata.get("HttpTokens"),
            "http_endpoint": metadata.get("HttpEndpoint"),
            "http_put_response_hop_limit": metadata.get("HttpPutResponseHopLimit"),
        },
        "launch_time": iso(instance.get("LaunchTime")),
        "tags": tags,
    }
    return Resource(
        uid=uid,
        provider="aws",
        scope=where,
        kind="EC2Instance",
        name=tags.get("Name") or instance["InstanceId"],
        attrs=attrs,
        created_at=attrs["launch_time"],
    )
