"""RDS: DB instances and DB clusters (Aurora, and the Neptune/DocumentDB clusters the same
API returns).

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``RDSInstance`` (uid: DB instance ARN)
    identifier, engine, engine_version, instance_class, status,
    publicly_accessible: bool, storage_encrypted: bool, kms_key_id: str|null,
    endpoint: {"address": str|null, "port": int|null} | null,
    vpc_security_groups: [group id] (sorted), db_subnet_group: str|null,
    iam_auth_enabled: bool, backup_retention_period: int, deletion_protection: bool,
    multi_az: bool, auto_minor_version_upgrade: bool, ca_certificate_identifier,
    cluster_identifier: str|null, create_time, tags

``RDSCluster`` (uid: DB cluster ARN)
    identifier, engine, engine_version, engine_mode, status,
    publicly_accessible: bool|null (per-instance for Aurora; set for Multi-AZ clusters),
    storage_encrypted: bool, kms_key_id: str|null,
    endpoint: str|null, reader_endpoint: str|null, port: int|null,
    vpc_security_groups: [group id], iam_auth_enabled: bool,
    backup_retention_period: int, deletion_protection: bool, members: [instance id],
    create_time, tags
"""

from __future__ import annotations

from functools import partial

from postureapp.collectors.aws._common import iso, scope, tags_dict
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("RDSInstance", "RDSCluster")


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    result = []
    for region in regions:
        result.append(
            Unit(f"rds instances {region}", ("RDSInstance",), partial(_instances, ctx, region))
        )
        result.append(
            Unit(f"rds clusters {region}", ("RDSCluster",), partial(_clusters, ctx, region))
        )
    return result


def _instances(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("rds", region)
    found = []
    with ctx.reading("RDSInstance"):
        for page in ctx.pages(client, "describe_db_instances", marker_in="Marker", MaxRecords=100):
            for db in page.get("DBInstances", []):
                endpoint = db.get("Endpoint")
                attrs = {
                    "identifier": db["DBInstanceIdentifier"],
                    "engine": db.get("Engine"),
                    "engine_version": db.get("EngineVersion"),
                    "instance_class": db.get("DBInstanceClass"),
                    "status": db.get("DBInstanceStatus"),
                    "publicly_accessible": bool(db.get("PubliclyAccessible", False)),
                    "storage_encrypted": bool(db.get("StorageEncrypted", False)),
                    "kms_key_id": db.get("KmsKeyId"),
                    "endpoint": None
                    if not endpoint
                    else {"address": endpoint.get("Address"), "port": endpoint.get("Port")},
                    "vpc_security_groups": sorted(
                        g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])
                    ),
                    "db_subnet_group": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
                    "iam_auth_enabled": bool(db.get("IAMDatabaseAuthenticationEnabled", False)),
                    "backup_retention_period": int(db.get("BackupRetentionPeriod") or 0),
                    "deletion_protection": bool(db.get("DeletionProtection", False)),
                    "multi_az": bool(db.get("MultiAZ", False)),
                    "auto_minor_version_upgrade": bool(db.get("AutoMinorVersionUpgrade", False)),
                    "ca_certificate_identifier": db.get("CACertificateIdentifier"),
                    "cluster_identifier": db.get("DBClusterIdentifier"),
                    "create_time": iso(db.get("InstanceCreateTime")),
                    "tags": tags_dict(db.get("TagList")),
                }
                found.append(
                    Resource(
                        uid=db["DBInstanceArn"],
                        provider="aws",
                        scope=scope(ctx.account, region),
                        kind="RDSInstance",
                        name=db["DBInstanceIdentifier"],
                        attrs=attrs,
                        created_at=attrs["create_time"],
                    )
                )
    return found


def _clusters(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("rds", region)
    found = []
    with ctx.reading("RDSCluster"):
        for page in ctx.pages(client, "describe_db_clusters", marker_in="Marker", MaxRecords=100):
            for cluster in page.get("DBClusters", []):
                public = cluster.get("PubliclyAccessible")
                attrs = {
                    "identifier": cluster["DBClusterIdentifier"],
                    "engine": cluster.get("Engine"),
                    "engine_version": cluster.get("EngineVersion"),
                    "engine_mode": cluster.get("EngineMode"),
                    "status": cluster.get("Status"),
                    "publicly_accessible": None if public is None else bool(public),
                    "storage_encrypted": bool(cluster.get("StorageEncrypted", False)),
                    "kms_key_id": cluster.get("KmsKeyId"),
                    "endpoint": cluster.get("Endpoint"),
                    "reader_endpoint": cluster.get("ReaderEndpoint"),
                    "port": cluster.get("Port"),
                    "vpc_security_groups": sorted(
                        g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])
                    ),
                    "iam_auth_enabled": bool(
                        cluster.get("IAMDatabaseAuthenticationEnabled", False)
                    ),
                    "backup_retention_period": int(cluster.get("BackupRetentionPeriod") or 0),
                    "deletion_protection": bool(cluster.get("DeletionProtection", False)),
                    "members": sorted(
                        m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])
                    ),
                    "create_time": iso(cluster.get("ClusterCreateTime")),
                    "tags": tags_dict(cluster.get("TagList")),
                }
                found.append(
                    Resource(
                        uid=cluster["DBClusterArn"],
                        provider="aws",
                        scope=scope(ctx.account, region),
                        kind="RDSCluster",
                        name=cluster["DBClusterIdentifier"],
                        attrs=attrs,
                        created_at=attrs["create_time"],
                    )
                )
    return found
