"""The AWS checks and governance controls.

Importing this package registers them in :data:`..registry.REGISTRY`. Each check
reads only the kinds and attrs the AWS collector documents (``collectors/aws/*.py``
module docstrings) and names them in ``requires``, so a kind that could not be collected
makes the check *unknown* for that account rather than green.

- :mod:`~.identities` -- administrators, privilege escalation, MFA, root user,
  dormant users and roles, cross-account trust;
- :mod:`~.endpoints` -- security groups, load balancers, API Gateway, S3,
  RDS and EKS exposure;
- :mod:`~.secrets` -- access keys, Secrets Manager, KMS rotation, certificates;
- :mod:`~.governance` -- CloudTrail, GuardDuty, Config, Security Hub, backups,
  encryption at rest, MFA coverage, and the AWS governance controls;
- :mod:`~.resilience` -- rate limiting (WAF, API Gateway throttling) and where
  TLS terminates at load balancers;
- :mod:`~.observability` -- log retention, X-Ray tracing, EKS control-plane logs;
- :mod:`~.trust` -- EKS issuers registered as IAM identity providers;
- :mod:`~.policy` -- the IAM policy-document helpers the identity checks use.
"""

from postureapp.checks.aws import (
    endpoints,
    governance,
    identities,
    observability,
    resilience,
    secrets,
    trust,
)

__all__ = [
    "endpoints",
    "governance",
    "identities",
    "observability",
    "resilience",
    "secrets",
    "trust",
]
