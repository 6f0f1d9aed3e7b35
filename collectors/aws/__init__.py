"""The AWS collector: IAM identities, network exposure, secrets and keys, and governance
evidence for one account per target (an AWS profile), in one or more regions.

Each module documents the kinds it emits and their attrs: :mod:`collectors.aws.iam`,
:mod:`~collectors.aws.ec2`, :mod:`~collectors.aws.elb`, :mod:`~collectors.aws.apigateway`,
:mod:`~collectors.aws.s3`, :mod:`~collectors.aws.rds`, :mod:`~collectors.aws.eks`,
:mod:`~collectors.aws.secrets`, :mod:`~collectors.aws.governance`,
:mod:`~collectors.aws.waf`, :mod:`~collectors.aws.logs`, plus ``AWSRegion`` from
:mod:`~collectors.aws.collector`. Offline dumps load through :mod:`~collectors.aws.offline`;
the read-only IAM policy the collector needs is in :mod:`~collectors.aws.permissions`.

Scopes: ``"{account}/{region}"`` for regional resources, ``"{account}/global"`` for IAM
and S3; the run's scope is ``"{account}"``, so a kind marked unknown applies to every
scope of the account.
"""

from collectors.aws import (
    apigateway,
    ec2,
    eks,
    elb,
    governance,
    iam,
    logs,
    rds,
    s3,
    secrets,
    waf,
)
from collectors.aws.collector import SERVICES, AwsCollector, parse_options, targets

# Every kind the collector can emit, in the modules' order.
KINDS: tuple[str, ...] = (
    *iam.KINDS,
    *s3.KINDS,
    *ec2.KINDS,
    *elb.KINDS,
    *waf.KINDS,
    *apigateway.KINDS,
    *rds.KINDS,
    *eks.KINDS,
    *secrets.KINDS,
    *governance.KINDS,
    *logs.KINDS,
    "AWSRegion",
)

__all__ = ["KINDS", "SERVICES", "AwsCollector", "parse_options", "targets"]
