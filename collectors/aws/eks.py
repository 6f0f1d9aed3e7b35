"""EKS: clusters (API endpoint exposure, audit logging, secrets encryption, OIDC issuer for
IRSA) and EKS Pod Identity associations (which Kubernetes service account gets which
IAM role). One unit per region lists clusters; each cluster is read by a follow-up unit.

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``EKSCluster`` (uid: cluster ARN)
    name, arn, version, status, endpoint, role_arn, created_at,
    endpoint_public_access: bool, endpoint_private_access: bool,
    public_access_cidrs: [cidr] (sorted; AWS reports ["0.0.0.0/0"] when unrestricted),
    logging_enabled_types: [api|audit|authenticator|controllerManager|scheduler] (sorted),
    encryption: [{"resources": [..], "key_arn": str|null}],
    secrets_encrypted: bool (an encryption config covers "secrets"),
    oidc_issuer: str|null, authentication_mode: str|null,
    vpc_id, subnet_ids: [..], security_group_ids: [..], cluster_security_group_id,
    pod_identity_associations: int|null (count; null when they could not be read),
    tags

``EKSPodIdentityAssociation`` (uid: association ARN)
    cluster, association_id, namespace, service_account, role_arn: str|null,
    created_at, tags
"""

from __future__ import annotations

from functools import partial
from typing import Any

from postureapp.collectors.aws._common import iso, scope, tags_dict
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("EKSCluster", "EKSPodIdentityAssociation")


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    return [Unit(f"eks {region}", KINDS, partial(_region, ctx, region)) for region in regions]


def _region(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("eks", region)
    with ctx.reading(*KINDS):
        for page in ctx.pages(client, "list_clusters", marker_in="nextToken", maxResults=100):
            for name in page.get("clusters", []):
                ctx.spawn(
                    Unit(
                        f"eks {region} {name}",
                        KINDS,
                        partial(_cluster, ctx, client, region, name),
                    )
                )
    return []


def _cluster(ctx: Context, client: Any, region: str, name: str) -> list[Resource]:
    where = scope(ctx.account, region)
    resources: list[Resource] = []
    with ctx.reading("EKSCluster"):
        cluster = (ctx.call(client, "describe_cluster", name=name) or {}).get("cluster") or {}
        vpc = cluster.get("resourcesVpcConfig") or {}
        logging = (cluster.get("logging") or {}).get("clusterLogging", [])
        encryption: list[dict[str, Any]] = [
            {
                "resources": sorted(item.get("resources", [])),
                "key_arn": (item.get("provider") or {}).get("keyArn"),
            }
            for item in cluster.get("encryptionConfig", []) or []
        ]
        created = iso(cluster.get("createdAt"))
        attrs = {
            "name": name,
            "arn": cluster.get("arn"),
            "version": cluster.get("version"),
            "status": cluster.get("status"),
            "endpoint": cluster.get("endpoint"),
            "role_arn": cluster.get("roleArn"),
            "created_at": created,
            "endpoint_public_access": bool(vpc.get("endpointPublicAccess", False)),
            "endpoint_private_access": bool(vpc.get("endpointPrivateAccess", False)),
            "public_access_cidrs": sorted(vpc.get("publicAccessCidrs", [])),
            "logging_enabled_types": sorted(
                {t for entry in logging if entry.get("enabled") for t in entry.get("types", [])}
            ),
            "encryption": encryption,
            "secrets_encrypted": any("secrets" in e["resources"] for e in encryption),
            "oidc_issuer": ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer"),
            "authentication_mode": (cluster.get("accessConfig") or {}).get("authenticationMode"),
            "vpc_id": vpc.get("vpcId"),
            "subnet_ids": sorted(vpc.get("subnetIds", [])),
            "security_group_ids": sorted(vpc.get("securityGroupIds", [])),
            "cluster_security_group_id": vpc.get("clusterSecurityGroupId"),
            "pod_identity_associations": None,
            "tags": tags_dict(cluster.get("tags")),
        }
        resource = Resource(
            uid=cluster.get("arn")
            or f"arn:{ctx.partition}:eks:{region}:{ctx.account}:cluster/{name}",
            provider="aws",
            scope=where,
            kind="EKSCluster",
            name=name,
            attrs=attrs,
            created_at=created,
        )
        resources.append(resource)

    with ctx.reading("EKSPodIdentityAssociation"):
        associations = []
        for page in ctx.pages(
            client,
            "list_pod_identity_associations",
            marker_in="nextToken",
            clusterName=name,
            maxResults=100,
        ):
            associations.extend(page.get("associations", []))
        found = []
        for summary in associations:
            # The list gives namespace and service account but not the role.
            detail = (
                ctx.call(
                    client,
                    "describe_pod_identity_association",
                    clusterName=name,
                    associationId=summary["associationId"],
                )
                or {}
            ).get("association") or {}
            created = iso(detail.get("createdAt"))
            attrs = {
                "cluster": name,
                "association_id": summary["associationId"],
                "namespace": summary.get("namespace"),
                "service_account": summary.get("serviceAccount"),
                "role_arn": detail.get("roleArn"),
                "created_at": created,
                "tags": tags_dict(detail.get("tags")),
            }
            found.append(
                Resource(
                    uid=summary.get("associationArn")
                    or f"arn:{ctx.partition}:eks:{region}:{ctx.account}:podidentityassociation/"
                    f"{name}/{summary['associationId']}",
                    provider="aws",
                    scope=where,
                    kind="EKSPodIdentityAssociation",
                    name=f"{summary.get('namespace')}/{summary.get('serviceAccount')}",
                    namespace=summary.get("namespace") or "",
                    attrs=attrs,
                    created_at=created,
                )
            )
        resources.extend(found)
        for resource in resources:
            if resource.kind == "EKSCluster":
                resource.attrs["pod_identity_associations"] = len(found)
    return resources
