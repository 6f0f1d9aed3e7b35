"""The check catalog. Importing this package registers every shipped check and control
in :data:`REGISTRY`; a duplicate id, a malformed framework mapping or a check citing a
control that does not exist fails here, at import."""

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

# Checks register before some of the controls they cite (module order), so citations are
# checked once everything is in.
if _problems := REGISTRY.validate():
    raise RuntimeError("the check catalog is inconsistent: " + "; ".join(_problems))

__all__ = ["REGISTRY", "CheckMeta", "ControlMeta", "Registry", "Result", "check", "control"]
