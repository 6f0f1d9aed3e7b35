"""``python -m tests.regression``: both regression banks, one after the other — the AWS
escalation bank (offline dumps and live collection from moto) and the Kubernetes bank
(live from the API emulator and offline from its dump). Exits 1 when either has a miss
(a false positive or negative, or an expectation left without a verdict)."""

from __future__ import annotations

import sys

from tests.regression.aws.score import main as score_aws
from tests.regression.kubernetes.__main__ import main as score_kubernetes


def main() -> int:
    print("# AWS (IAM escalation, policy semantics, dump formats)\n")
    aws = score_aws()
    print("\n# Kubernetes (workloads, RBAC, exposure, tokens)\n")
    kubernetes = score_kubernetes(["--markdown"])
    return 1 if aws or kubernetes else 0


if __name__ == "__main__":
    sys.exit(main())
