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
from typing import Any

from postureapp.collectors.base import Collector
from postureapp.errors import InputError
from postureapp.model import Target

# provider -> "module:Class"
COLLECTORS = {
    "kubernetes": "postureapp.collectors.kubernetes:KubernetesCollector",
    "aws": "postureapp.collectors.aws:AwsCollector",
    "aws-organizations": "postureapp.collectors.aws.organizations:OrganizationsCollector",
    "offline": "postureapp.collectors.offline:OfflineCollector",
    "probe": "postureapp.collectors.probe:ProbeCollector",
}
# Collectors whose targets hand the engine targets of another (an organisation's accounts).
DISCOVERS = {"aws-organizations": ("aws",)}


def load_collector(provider: str, **kwargs: object) -> Collector:
    module_name, _, class_name = COLLECTORS[provider].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(**kwargs)


def default_collectors(
    providers: Sequence[str], max_concurrency: int | None = None
) -> dict[str, Collector]:
    """One collector per provider (and per provider the others discover);
    ``max_concurrency`` bounds AWS units in flight across every account at once."""
    wanted = list(providers) + [p for name in providers for p in DISCOVERS.get(name, ())]
    collectors: dict[str, Collector] = {}
    for provider in dict.fromkeys(wanted):
        kwargs = {"max_concurrency": max_concurrency} if provider == "aws" else {}
        collectors[provider] = load_collector(provider, **kwargs)
    return collectors


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
    all_contexts: bool = False  # every context of the kubeconfig
    # The AWS profiles are an organisation's management (or delegated administrator)
    # credentials: these options select and reach its accounts (see
    # postureapp.collectors.aws.organizations); None: the profiles are accounts.
    organization: dict[str, Any] | None = None
    # --probe / --probe-url: added after the others, whichever they are (see
    # postureapp.collectors.probe.probe_target); it never counts as naming what to poll.
    probe: Target | None = None


def organization_options(
    config: Any, flag: bool | None, fleet: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The organisation target's options from the config (None: no organisation);
    ``fleet`` adds what ``posture collect --target/--shard`` narrows it to."""
    if not (flag if flag is not None else config.get("fleet.aws_organization")):
        return None
    options = {
        "role_name": config.get("fleet.aws_role_name"),
        "include_ous": config.get("fleet.aws_include_ous"),
        "exclude_ous": config.get("fleet.aws_exclude_ous"),
        "exclude_accounts": config.get("fleet.aws_exclude_accounts"),
        **(fleet or {}),
    }
    if config.get("fleet.aws_external_id"):
        options["external_id"] = config.get("fleet.aws_external_id")
    return options


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
    want_kube = request.kubernetes or bool(request.contexts) or request.all_contexts
    want_aws = (
        request.aws
        or bool(request.profiles)
        or bool(request.regions)
        or request.organization is not None
    )
    if not targets and not want_kube and not want_aws:
        want_kube = _kubeconfig_present(request.kubeconfig)
        want_aws = _aws_configured()
    if want_kube:
        from postureapp.collectors.kubernetes import targets as kube_targets

        contexts = request.contexts
        if request.all_contexts:
            contexts = list(dict.fromkeys([*every_context(request.kubeconfig), *contexts]))
        targets.extend(kube_targets(contexts, request.kubeconfig))
    if want_aws:
        from postureapp.collectors.aws import targets as aws_targets

        found = aws_targets(
            request.profiles, request.regions, request.all_regions, request.endpoint_url
        )
        if request.organization is not None:
            from postureapp.collectors.aws.organizations import organization_targets

            found = organization_targets(
                [t.name for t in found], {**found[0].options, **request.organization}
            )
        targets.extend(found)
    if request.probe is not None:
        targets.append(request.probe)
    if not targets:
        raise InputError(
            "nothing to poll: pass --context, --profile or --from, set targets in the config, "
            "or set up a kubeconfig or AWS credentials"
        )
    return targets


def every_context(kubeconfig: str | None) -> list[str]:
    """Every context of the kubeconfig (``--all-contexts``), in its order.

    Raises:
        InputError: the kubeconfig cannot be read, or has no context.
    """
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    from postureapp.collectors.kubernetes.collector import kubeconfig_path

    path = kubeconfig_path(kubeconfig)
    try:
        available, _ = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(
            f"--all-contexts: cannot read kubeconfig {path}: {first}; "
            "pass --kubeconfig or set KUBECONFIG"
        ) from None
    names = [str(context["name"]) for context in available or []]
    if not names:
        raise InputError(f"--all-contexts: kubeconfig {path} has no context")
    return names


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
