"""Checks on what the live probe saw of each endpoint (``collectors.probe``)."""

import checks.probe.endpoints
import checks.probe.tls  # noqa: F401  (registers the checks)
from checks.probe._common import ADMIN_PATHS, DEBUG_PATHS, KUBE_API_PATH

__all__ = ["ADMIN_PATHS", "DEBUG_PATHS", "KUBE_API_PATH"]
