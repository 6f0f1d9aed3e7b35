"""Which collectors exist and which targets a command line (plus config) names.

Collector packages are imported lazily: ``posture checks`` or ``posture export`` should
not pay for importing the Kubernetes client and boto3.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from postureapp.collectors.base import Collector
from postureapp.errors import InputError
from postureapp.model import Target

# provider -> "module:Class"
COLLECTORS = {
    "kubernetes": "postureapp.collectors.kubernetes:KubernetesCollector",
    "aws": "postureapp.collectors.aws:AwsCollector",
    "offline": "postureapp.collectors.offline:OfflineCollector",
    "probe": "postureapp.collectors.probe:ProbeCollector",
}


def load_collector(provider: str) -> Collector:
    module_name, _, class_name = COLLECTORS[provider].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)()


def default_collectors(providers: Sequence[str]) -> dict[str, Collector]:
    return {provider: load_collector(provider) for provider in providers}


@dataclass
class TargetRequest:
    """What the user asked to poll, from flags and config."""

    contexts: list[str] = field(default_factory=list)
    kubeconfig: str | None = None
    profiles: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    all_regions: bool = False
    endpoint_url: str | None = None
    offline_paths: list[Path] = field(default_factory=list)
    kubernetes: bool = False  # asked for explicitly (--context, config) or by default
    aws: bool = False
    # --probe / --probe-url: added after the others, whichever they are (see
    # postureapp.collectors.probe.probe_target); it never counts as naming what to poll.
    probe: Target | None = None


def resolve_targets(request: TargetRequest) -> list[Target]:
    """Turn a request into targets. With nothing named, poll what the environment has:
    the current kube context when a kubeconfig exists, and AWS when the default
    credential chain would find something.

    Raises:
        InputError: nothing to poll, or an offline path is unusable.
    """
    targets: list[Target] = []
    if request.offline_paths:
        from postureapp.collectors.offline import offline_targets

        targets.extend(offline_targets(request.offline_paths))
    want_kube = request.kubernetes or bool(request.contexts)
    want_aws = request.aws or bool(request.profiles) or bool(request.regions)
    if not targets and not want_kube and not want_aws:
        want_kube = _kubeconfig_present(request.kubeconfig)
        want_aws = _aws_configured()
    if want_kube:
        from postureapp.collectors.kubernetes import targets as kube_targets

        targets.extend(kube_targets(request.contexts, request.kubeconfig))
    if want_aws:
        from postureapp.collectors.aws import targets as aws_targets

        targets.extend(
            aws_targets(
                request.profiles, request.regions, request.all_regions, request.endpoint_url
            )
        )
    if request.probe is not None:
        targets.append(request.probe)
    if not targets:
        raise InputError(
            "nothing to poll: pass --context, --profile or --from, set targets in the config, "
            "or set up a kubeconfig or AWS credentials"
        )
    return targets


def _kubeconfig_present(explicit: str | None) -> bool:
    if explicit:
        return True
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    paths = os.environ.get("KUBECONFIG", "")
    candidates = [Path(p) for p in paths.split(os.pathsep) if p] or [Path("~/.kube/config")]
    return any(path.expanduser().is_file() for path in candidates)


def _aws_configured() -> bool:
    if any(
        os.environ.get(name)
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN")
    ):
        return True
    home = Path("~/.aws").expanduser()
    return (home / "credentials").is_file() or (home / "config").is_file()
