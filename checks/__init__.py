"""The check catalog. Importing this package registers every shipped check and control
in :data:`REGISTRY`; a duplicate id fails here, at import."""

# Importing the packages registers their checks and controls.
import postureapp.checks.aws
import postureapp.checks.governance
import postureapp.checks.kubernetes
import postureapp.checks.paths
import postureapp.checks.probe  # noqa: F401
from postureapp.checks.registry import (
    REGISTRY,
    CheckMeta,
    ControlMeta,
    Registry,
    Result,
    check,
    control,
)

__all__ = ["REGISTRY", "CheckMeta", "ControlMeta", "Registry", "Result", "check", "control"]
