"""Checks on what the live probe saw of each endpoint (``postureapp.collectors.probe``)."""

import postureapp.checks.probe.endpoints
import postureapp.checks.probe.tls  # noqa: F401  (registers the checks)
from postureapp.checks.probe._common import ADMIN_PATHS, DEBUG_PATHS, KUBE_API_PATH

__all__ = ["ADMIN_PATHS", "DEBUG_PATHS", "KUBE_API_PATH"]
