"""Controls whose evidence spans both planes.

Least privilege, audit logging and secrets encryption cannot be judged from one API:
the cluster shows RBAC but not whether the managed control plane logs audit events;
AWS shows EKS logging and envelope encryption but not RBAC. A control here cites
checks of both, so with only one plane polled the other plane's evidence is simply
absent — the control reports what it saw, and stays *unknown* when it saw nothing.
"""

from checks.registry import control

control(
    id="least-privilege",
    title="Least privilege for every identity, in the cluster and in the cloud",
    description="No workload or person holds admin-equivalent or escalation rights it "
    "does not need; one identity per service keeps a breach's blast radius small.",
    frameworks={"ISO 27001:2022": ["A.5.15", "A.5.18", "A.8.2"], "SOC 2": ["CC6.1", "CC6.3"]},
    checks=[
        "k8s-gov-least-privilege",
        "k8s-rbac-cluster-admin",
        "k8s-rbac-wildcard",
        "k8s-rbac-escalation-verbs",
        "k8s-rbac-secrets-read",
        "k8s-rbac-anonymous",
        "aws-iam-admin-policy",
        "aws-iam-privilege-escalation",
        "aws-iam-role-external-trust",
        "aws-iam-unused-user",
        "aws-iam-root-access-keys",
    ],
)

control(
    id="one-identity-per-service",
    title="One identity per service",
    description="Each microservice runs as its own service account, never the namespace "
    "default nor one shared with other services, so its rights and its audit trail are "
    "its own.",
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2"], "SOC 2": ["CC6.1"]},
    checks=["k8s-sa-shared", "k8s-sa-default-used", "aws-iam-unused-role"],
)

control(
    id="audit-logging",
    title="Audit trail of control-plane and API activity",
    description="Every API call to the cloud and the cluster's control plane is logged "
    "somewhere the actor cannot erase (non-repudiation).",
    frameworks={"ISO 27001:2022": ["A.8.15", "A.8.16"], "SOC 2": ["CC7.2", "CC7.3"]},
    checks=["aws-cloudtrail-multi-region", "aws-eks-audit-logs"],
)

control(
    id="secrets-encryption",
    title="Secrets encrypted at rest and kept out of plain configuration",
    description="Kubernetes Secrets are envelope-encrypted with a KMS key, and no "
    "credential sits literally in a pod spec, where secrets encryption does not reach.",
    frameworks={"ISO 27001:2022": ["A.8.24", "A.5.33"], "SOC 2": ["CC6.1", "CC6.7"]},
    checks=["aws-eks-secrets-encryption", "aws-kms-key-rotation", "k8s-env-literal-secret"],
)

control(
    id="backup-restore-tested",
    title="Backups exist and a restore has been tested recently",
    description="Backup plans cover the databases, and someone restored one and says "
    "so (posture attest backup-restore-tested --by ... --expires ...).",
    frameworks={"ISO 27001:2022": ["A.8.13"], "SOC 2": ["A1.2", "A1.3"]},
    checks=["aws-backup-plan", "aws-rds-backup-protected"],
    needs_attestation=True,
)
