"""The AWS collector: IAM identities, network exposure, secrets and keys, and governance
evidence for one account per target (an AWS profile), in one or more regions.

Each module documents the kinds it emits and their attrs: :mod:`.iam`, :mod:`.ec2`,
:mod:`.elb`, :mod:`.apigateway`, :mod:`.s3`, :mod:`.rds`, :mod:`.eks`, :mod:`.secrets`,
:mod:`.governance`, :mod:`.waf`, :mod:`.logs`, plus ``AWSRegion`` from :mod:`.collector`.
Offline dumps load through :mod:`.offline`; the read-only IAM policy the collector needs
is in :mod:`.permissions`.

Scopes: ``"{account}/{region}"`` for regional resources, ``"{account}/global"`` for IAM
and S3; the run's scope is ``"{account}"``, so a kind marked unknown applies to every
scope of the account.
"""

from postureapp.collectors.aws import (
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
from postureapp.collectors.aws.collector import SERVICES, AwsCollector, parse_options, targets

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
