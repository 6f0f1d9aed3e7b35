"""The check catalog. Importing this package registers every shipped check and control
in :data:`REGISTRY`; a duplicate id fails here, at import."""

# Importing the packages registers their checks and controls.
import checks.aws
import checks.governance
import checks.kubernetes
import checks.paths
import checks.probe  # noqa: F401
from checks.registry import REGISTRY, CheckMeta, ControlMeta, Registry, Result, check, control

__all__ = ["REGISTRY", "CheckMeta", "ControlMeta", "Registry", "Result", "check", "control"]
