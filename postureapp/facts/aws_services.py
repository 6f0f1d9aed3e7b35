"""Facts of the AWS kinds other than IAM (S3, EC2, load balancers, API Gateway,
databases, EKS, secrets and keys, governance evidence); registered by
:mod:`postureapp.facts.aws`."""

from __future__ import annotations

from typing import Any

# typing_extensions: pydantic (the conformance tests) validates TypedDicts only from it
# before Python 3.12.
from typing_extensions import TypedDict

Iso = str | None
Document = dict[str, Any]  # a normalised policy document (see collectors/aws/_common.py)


# -- S3 ----------------------------------------------------------------------------------


class PublicAccessBlock(TypedDict):
    block_public_acls: bool
    ignore_public_acls: bool
    block_public_policy: bool
    restrict_public_buckets: bool


class S3AccountPublicAccessBlockFacts(PublicAccessBlock):
    configured: bool


class PublicGrant(TypedDict):
    grantee: str
    permission: str


class BucketEncryption(TypedDict):
    algorithm: str | None
    kms_key_id: str | None
    bucket_key_enabled: bool


class S3BucketFacts(TypedDict):
    name: str
    region: str | None
    creation_date: Iso
    public_access_block: PublicAccessBlock | None
    has_policy: bool | None
    policy_is_public: bool | None
    acl_public_grants: list[PublicGrant] | None
    encryption: BucketEncryption | None
    unread: dict[str, str]


# -- EC2 and load balancers --------------------------------------------------------------


class SourceGroup(TypedDict):
    group_id: str | None
    user_id: str | None
    vpc_id: str | None


class IpRule(TypedDict):
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs_v4: list[str]
    cidrs_v6: list[str]
    prefix_lists: list[str]
    source_groups: list[SourceGroup]
    open_to_internet: bool
    descriptions: list[str]


class GroupUsers(TypedDict):
    network_interfaces: list[str]
    instances: list[str]
    interface_types: list[str]


class SecurityGroupFacts(TypedDict):
    group_id: str
    group_name: str
    description: str
    vpc_id: str | None
    owner_id: str | None
    is_default: bool
    tags: dict[str, str]
    ingress: list[IpRule]
    egress: list[IpRule]
    used_by: GroupUsers | None


class NetworkInterfaceFacts(TypedDict):
    network_interface_id: str
    interface_type: str | None
    status: str | None
    description: str
    vpc_id: str | None
    subnet_id: str | None
    private_ip: str | None
    public_ip: str | None
    public_dns: str | None
    security_groups: list[str]
    instance_id: str | None
    requester_managed: bool
    requester_id: str | None


class MetadataOptions(TypedDict):
    http_tokens: str | None
    http_endpoint: str | None
    http_put_response_hop_limit: int | None


class EC2InstanceFacts(TypedDict):
    instance_id: str
    name: str
    state: str | None
    instance_type: str | None
    image_id: str | None
    vpc_id: str | None
    subnet_id: str | None
    private_ip: str | None
    public_ip: str | None
    public_dns: str | None
    security_groups: list[str]
    network_interfaces: list[str]
    iam_instance_profile: str | None
    metadata_options: MetadataOptions
    launch_time: Iso
    tags: dict[str, str]


class EBSEncryptionByDefaultFacts(TypedDict):
    region: str
    enabled: bool


class LoadBalancerFacts(TypedDict):
    name: str
    arn: str
    type: str | None
    scheme: str | None
    internet_facing: bool
    dns_name: str | None
    vpc_id: str | None
    state: str | None
    ip_address_type: str | None
    security_groups: list[str]
    availability_zones: list[str]
    created_time: Iso
    listeners: list[dict[str, Any]] | None
    protocols: list[str]
    access_logs_enabled: bool | None
    deletion_protection: bool | None
    drop_invalid_header_fields: bool | None
    web_acl_arn: str | None
    web_acl_read: bool | None


class WAFWebACLFacts(TypedDict):
    name: str
    id: str | None
    arn: str
    description: str
    default_action: str | None
    rules: list[dict[str, Any]] | None
    rate_based_rules: list[str]
    protects: list[str]


# -- API Gateway -------------------------------------------------------------------------


class ApiGatewayRestApiFacts(TypedDict):
    api_id: str
    name: str
    description: str
    endpoint_types: list[str]
    disable_execute_api_endpoint: bool
    api_key_source: str | None
    created_date: Iso
    policy: Document | None
    methods: list[dict[str, Any]] | None
    authorizers: list[dict[str, Any]] | None
    stages: list[dict[str, Any]] | None
    tags: dict[str, str]


class ApiGatewayHttpApiFacts(TypedDict):
    api_id: str
    name: str
    description: str
    protocol_type: str | None
    api_endpoint: str | None
    disable_execute_api_endpoint: bool
    created_date: Iso
    cors: dict[str, Any] | None
    routes: list[dict[str, Any]] | None
    authorizers: list[dict[str, Any]] | None
    stages: list[dict[str, Any]] | None
    tags: dict[str, str]


class ApiGatewayUsagePlanFacts(TypedDict):
    id: str
    name: str
    description: str
    throttle: dict[str, Any] | None
    quota: dict[str, Any] | None
    api_stages: list[dict[str, Any]]


# -- databases and clusters --------------------------------------------------------------


class RDSEndpoint(TypedDict):
    address: str | None
    port: int | None


class RDSDatabaseFacts(TypedDict):
    """What DB instances and clusters share, for the checks that judge both kinds."""

    storage_encrypted: bool
    backup_retention_period: int


class RDSInstanceFacts(RDSDatabaseFacts):
    identifier: str
    engine: str | None
    engine_version: str | None
    instance_class: str | None
    status: str | None
    publicly_accessible: bool
    kms_key_id: str | None
    endpoint: RDSEndpoint | None
    vpc_security_groups: list[str]
    db_subnet_group: str | None
    iam_auth_enabled: bool
    deletion_protection: bool
    multi_az: bool
    auto_minor_version_upgrade: bool
    ca_certificate_identifier: str | None
    cluster_identifier: str | None
    create_time: Iso
    tags: dict[str, str]


class RDSClusterFacts(RDSDatabaseFacts):
    identifier: str
    engine: str | None
    engine_version: str | None
    engine_mode: str | None
    status: str | None
    publicly_accessible: bool | None
    kms_key_id: str | None
    endpoint: str | None
    reader_endpoint: str | None
    port: int | None
    vpc_security_groups: list[str]
    iam_auth_enabled: bool
    deletion_protection: bool
    members: list[str]
    create_time: Iso
    tags: dict[str, str]


class EKSEncryption(TypedDict):
    resources: list[str]
    key_arn: str | None


class EKSClusterFacts(TypedDict):
    name: str
    arn: str
    version: str | None
    status: str | None
    endpoint: str | None
    role_arn: str | None
    created_at: Iso
    endpoint_public_access: bool
    endpoint_private_access: bool
    public_access_cidrs: list[str]
    logging_enabled_types: list[str]
    encryption: list[EKSEncryption]
    secrets_encrypted: bool
    oidc_issuer: str | None
    authentication_mode: str | None
    vpc_id: str | None
    subnet_ids: list[str]
    security_group_ids: list[str]
    cluster_security_group_id: str | None
    pod_identity_associations: int | None
    tags: dict[str, str]


class EKSPodIdentityAssociationFacts(TypedDict):
    cluster: str
    association_id: str
    namespace: str
    service_account: str
    role_arn: str | None
    created_at: Iso
    tags: dict[str, str]


# -- secrets, keys, certificates ---------------------------------------------------------


class RotationRules(TypedDict):
    automatically_after_days: int | None
    schedule_expression: str | None
    duration: str | None


class SecretsManagerSecretFacts(TypedDict):
    name: str
    arn: str
    description: str
    kms_key_id: str | None
    rotation_enabled: bool
    rotation_lambda_arn: str | None
    rotation_rules: RotationRules | None
    last_rotated_date: Iso
    last_changed_date: Iso
    last_accessed_date: Iso
    next_rotation_date: Iso
    created_date: Iso
    deleted_date: Iso
    primary_region: str | None
    owning_service: str | None
    tags: dict[str, str]


class KMSKeyFacts(TypedDict):
    key_id: str
    arn: str
    aliases: list[str]
    description: str
    key_state: str | None
    enabled: bool
    key_manager: str | None
    key_spec: str | None
    key_usage: str | None
    origin: str | None
    multi_region: bool
    creation_date: Iso
    deletion_date: Iso
    rotation_supported: bool
    rotation_enabled: bool | None
    rotation_period_days: int | None


class ACMCertificateFacts(TypedDict):
    arn: str
    domain_name: str | None
    subject_alternative_names: list[str]
    status: str | None
    type: str | None
    issuer: str | None
    key_algorithm: str | None
    not_before: Iso
    not_after: Iso
    in_use_by: list[str]
    in_use: bool
    renewal_eligibility: str | None
    created_at: Iso
    imported_at: Iso


# -- governance --------------------------------------------------------------------------


class CloudTrailTrailFacts(TypedDict):
    name: str
    arn: str
    home_region: str | None
    multi_region: bool
    organization_trail: bool
    include_global_service_events: bool
    log_file_validation_enabled: bool
    s3_bucket: str | None
    s3_key_prefix: str | None
    sns_topic_arn: str | None
    kms_key_id: str | None
    cloudwatch_logs_log_group_arn: str | None
    has_custom_event_selectors: bool
    is_logging: bool | None
    latest_delivery_error: str | None
    start_logging_time: Iso
    stop_logging_time: Iso


class ConfigRecorderFacts(TypedDict):
    name: str
    role_arn: str | None
    all_supported: bool
    include_global_resource_types: bool
    resource_types: list[str]
    recording_strategy: str | None
    recording: bool | None
    last_status: str | None
    last_error_code: str | None


class GuardDutyDetectorFacts(TypedDict):
    detector_id: str
    status: str | None
    finding_publishing_frequency: str | None
    created_at: Iso
    data_sources: dict[str, str]
    features: dict[str, str]


class BackupPlanFacts(TypedDict):
    plan_id: str
    name: str
    version_id: str | None
    created_at: Iso
    last_execution_date: Iso
    rules: list[dict[str, Any]]


class BackupProtectedResourceFacts(TypedDict):
    resource_arn: str
    resource_type: str | None
    resource_name: str | None
    last_backup_time: Iso


class SecurityHubFacts(TypedDict):
    region: str
    enabled: bool
    hub_arn: str | None
    subscribed_at: Iso
    auto_enable_controls: bool | None


class CloudWatchLogGroupFacts(TypedDict):
    name: str
    arn: str
    retention_days: int | None
    kms_key_id: str | None
    stored_bytes: int | None
    created_at: Iso
    log_group_class: str | None
