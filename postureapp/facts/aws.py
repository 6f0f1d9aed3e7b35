"""Facts of the AWS kinds, as the AWS collector and the offline loader write them (the
module docstrings of ``postureapp.collectors.aws.*`` say what each means).

Timestamps are ISO 8601 strings with ``Z`` or None; an optional value that could not be
read is None, never a default. Nested shapes that only one check reads in full (rule
lists of security groups, WAF ACLs, listeners, API stages...) are typed one level down
and left ``dict[str, Any]`` below that.
"""

from __future__ import annotations

from typing import Any

# typing_extensions: pydantic (the conformance tests) validates TypedDicts only from it
# before Python 3.12.
from typing_extensions import TypedDict

from postureapp.facts.base import register

PROVIDER = "aws"
Iso = str | None
Document = dict[str, Any]  # a normalised policy document (see collectors/aws/_common.py)


class AWSRegionFacts(TypedDict):
    """One per region read, so "in every region" checks know the regions."""

    region: str


# -- IAM ---------------------------------------------------------------------------------


class AttachedPolicyRef(TypedDict):
    name: str
    arn: str


class InlinePolicy(TypedDict):
    name: str
    document: Document | None


class UserCredentials(TypedDict):
    password_enabled: bool
    password_last_used: Iso
    password_last_changed: Iso
    mfa_active: bool
    access_keys_active: int


class PolicyHolderFacts(TypedDict):
    """What users, groups and roles share: the policies they hold."""

    attached_policies: list[AttachedPolicyRef]
    inline_policies: list[InlinePolicy]


class IAMUserFacts(TypedDict):
    user_name: str
    user_id: str | None
    arn: str
    path: str
    create_date: Iso
    groups: list[str]
    attached_policies: list[AttachedPolicyRef]
    inline_policies: list[InlinePolicy]
    permissions_boundary: str | None
    tags: dict[str, str]
    credentials: UserCredentials | None


class IAMGroupFacts(TypedDict):
    group_name: str
    group_id: str | None
    arn: str
    path: str
    create_date: Iso
    members: list[str]
    attached_policies: list[AttachedPolicyRef]
    inline_policies: list[InlinePolicy]


class IAMRoleFacts(TypedDict):
    role_name: str
    role_id: str | None
    arn: str
    path: str
    create_date: Iso
    description: str
    max_session_duration: int | None
    trust_policy: Document | None
    trusted_principals: dict[str, list[str]]
    last_used_date: Iso
    last_used_region: str | None
    attached_policies: list[AttachedPolicyRef]
    inline_policies: list[InlinePolicy]
    permissions_boundary: str | None
    instance_profiles: list[str]
    service_linked: bool
    tags: dict[str, str]


class IAMPolicyFacts(TypedDict):
    name: str
    policy_id: str | None
    arn: str
    path: str
    aws_managed: bool
    default_version_id: str | None
    document: Document | None
    attachment_count: int
    permissions_boundary_usage_count: int
    is_attachable: bool
    description: str
    create_date: Iso
    update_date: Iso


class IAMAccessKeyFacts(TypedDict):
    user_name: str
    user_arn: str
    access_key_id: str | None
    slot: int | None
    active: bool
    created: Iso
    last_used_date: Iso
    last_used_region: str | None
    last_used_service: str | None
    source: str


class IAMCredentialReportFacts(TypedDict):
    generated_at: Iso
    users: int
    source: str


class IAMAccountFacts(TypedDict):
    account_id: str
    root_mfa_active: bool | None
    root_access_keys_present: bool | None
    root_password_last_used: Iso
    root_access_key_last_used: Iso
    password_policy: dict[str, Any] | None
    password_policy_set: bool | None
    mfa_devices_in_use: int | None


class IAMServerCertificateFacts(TypedDict):
    name: str
    server_certificate_id: str | None
    arn: str
    path: str
    upload_date: Iso
    expiration: Iso


class IAMOIDCProviderFacts(TypedDict):
    arn: str
    url: str
    client_ids: list[str]
    created_at: Iso


# The other planes' kinds live in aws_services (this file would pass 500 lines).
from postureapp.facts.aws_services import (  # noqa: E402
    ACMCertificateFacts,
    ApiGatewayHttpApiFacts,
    ApiGatewayRestApiFacts,
    ApiGatewayUsagePlanFacts,
    BackupPlanFacts,
    BackupProtectedResourceFacts,
    CloudTrailTrailFacts,
    CloudWatchLogGroupFacts,
    ConfigRecorderFacts,
    EBSEncryptionByDefaultFacts,
    EC2InstanceFacts,
    EKSClusterFacts,
    EKSPodIdentityAssociationFacts,
    GuardDutyDetectorFacts,
    KMSKeyFacts,
    LoadBalancerFacts,
    NetworkInterfaceFacts,
    RDSClusterFacts,
    RDSInstanceFacts,
    S3AccountPublicAccessBlockFacts,
    S3BucketFacts,
    SecretsManagerSecretFacts,
    SecurityGroupFacts,
    SecurityHubFacts,
    WAFWebACLFacts,
)

for _kind, _facts in {
    "AWSRegion": AWSRegionFacts,
    "IAMUser": IAMUserFacts,
    "IAMGroup": IAMGroupFacts,
    "IAMRole": IAMRoleFacts,
    "IAMPolicy": IAMPolicyFacts,
    "IAMAccessKey": IAMAccessKeyFacts,
    "IAMCredentialReport": IAMCredentialReportFacts,
    "IAMAccount": IAMAccountFacts,
    "IAMServerCertificate": IAMServerCertificateFacts,
    "IAMOIDCProvider": IAMOIDCProviderFacts,
    "S3Bucket": S3BucketFacts,
    "S3AccountPublicAccessBlock": S3AccountPublicAccessBlockFacts,
    "SecurityGroup": SecurityGroupFacts,
    "NetworkInterface": NetworkInterfaceFacts,
    "EC2Instance": EC2InstanceFacts,
    "EBSEncryptionByDefault": EBSEncryptionByDefaultFacts,
    "LoadBalancer": LoadBalancerFacts,
    "WAFWebACL": WAFWebACLFacts,
    "ApiGatewayRestApi": ApiGatewayRestApiFacts,
    "ApiGatewayHttpApi": ApiGatewayHttpApiFacts,
    "ApiGatewayUsagePlan": ApiGatewayUsagePlanFacts,
    "RDSInstance": RDSInstanceFacts,
    "RDSCluster": RDSClusterFacts,
    "EKSCluster": EKSClusterFacts,
    "EKSPodIdentityAssociation": EKSPodIdentityAssociationFacts,
    "SecretsManagerSecret": SecretsManagerSecretFacts,
    "KMSKey": KMSKeyFacts,
    "ACMCertificate": ACMCertificateFacts,
    "CloudTrailTrail": CloudTrailTrailFacts,
    "ConfigRecorder": ConfigRecorderFacts,
    "GuardDutyDetector": GuardDutyDetectorFacts,
    "BackupPlan": BackupPlanFacts,
    "BackupProtectedResource": BackupProtectedResourceFacts,
    "SecurityHub": SecurityHubFacts,
    "CloudWatchLogGroup": CloudWatchLogGroupFacts,
}.items():
    register(PROVIDER, _kind, _facts)
