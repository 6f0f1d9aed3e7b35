"""The read-only IAM permissions the AWS collector needs.

Attach the AWS-managed ``SecurityAudit`` policy plus :data:`IAM_POLICY_JSON`, which grants
the few read actions the collector calls that ``SecurityAudit`` (version v94) lacks:

- ``eks:ListPodIdentityAssociations`` and ``eks:DescribePodIdentityAssociation``
  (which Kubernetes service account gets which IAM role through EKS Pod Identity).

``sts:GetCallerIdentity`` needs no permission. Nothing here can read a secret value:
``secretsmanager:GetSecretValue``, ``kms:Decrypt`` and ``s3:GetObject`` are not used.

:data:`ACTIONS` lists every action the collector calls (a test keeps it in step with the
code); :data:`STANDALONE_POLICY_JSON` grants exactly those, for accounts where
``SecurityAudit`` is too broad.
"""

from __future__ import annotations

import json

SECURITY_AUDIT_ARN = "arn:aws:iam::aws:policy/SecurityAudit"

EXTRA_ACTIONS: tuple[str, ...] = (
    "eks:DescribePodIdentityAssociation",
    "eks:ListPodIdentityAssociations",
)

ACTIONS: tuple[str, ...] = (
    "acm:DescribeCertificate",
    "acm:ListCertificates",
    "apigateway:GET",
    "backup:GetBackupPlan",
    "backup:ListBackupPlans",
    "backup:ListProtectedResources",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeConfigurationRecorders",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRegions",
    "ec2:DescribeSecurityGroups",
    "ec2:GetEbsEncryptionByDefault",
    "eks:DescribeCluster",
    "eks:DescribePodIdentityAssociation",
    "eks:ListClusters",
    "eks:ListPodIdentityAssociations",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "guardduty:GetDetector",
    "guardduty:ListDetectors",
    "iam:GenerateCredentialReport",
    "iam:GetAccessKeyLastUsed",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetAccountPasswordPolicy",
    "iam:GetAccountSummary",
    "iam:GetCredentialReport",
    "iam:GetOpenIDConnectProvider",
    "iam:ListAccessKeys",
    "iam:ListOpenIDConnectProviders",
    "iam:ListServerCertificates",
    "iam:ListUsers",
    "kms:DescribeKey",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListKeys",
    "logs:DescribeLogGroups",
    "rds:DescribeDBClusters",
    "rds:DescribeDBInstances",
    "s3:GetAccountPublicAccessBlock",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:ListAllMyBuckets",
    "secretsmanager:ListSecrets",
    "securityhub:DescribeHub",
    "sts:GetCallerIdentity",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:ListWebACLs",
)


def _policy(sid: str, actions: tuple[str, ...]) -> str:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
    }
    return json.dumps(document, indent=2)


# Attach together with SecurityAudit.
IAM_POLICY_JSON = _policy("PostureReadBeyondSecurityAudit", EXTRA_ACTIONS)

# Everything the collector calls, on its own.
STANDALONE_POLICY_JSON = _policy("PostureRead", ACTIONS)
