"""Attack-path checks: toxic combinations that span the cluster and the cloud."""

from postureapp.checks.paths import exposure, trust  # noqa: F401  (registers the checks)
