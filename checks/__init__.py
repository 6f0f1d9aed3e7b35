"""The check catalog. Importing this package registers every shipped check and control
in :data:`REGISTRY`; a duplicate id fails here, at import."""

from checks.registry import REGISTRY, CheckMeta, ControlMeta, Registry, Result, check, control

__all__ = ["REGISTRY", "CheckMeta", "ControlMeta", "Registry", "Result", "check", "control"]
