"""The options that name what to poll, and their validation before any collection.

Every target a command line names is checked here, before the cache is opened or a
collector starts: a kube context missing from the kubeconfig, an AWS profile or region
that does not exist, a CA bundle with no certificate in it, a malformed or oversized
offline dump. A poll that would fail on its input fails in a second with one line and
exit 2, not minutes later with a snapshot written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from postureapp.errors import InputError
from postureapp.model import Target


def target_options(function):
    """The options that name what to poll, shared by collect, snapshot and tui."""
    options = [
        click.option("--context", "contexts", multiple=True, help="Kube context (repeatable)."),
        click.option(
            "--all-contexts",
            is_flag=True,
            default=None,
            help="Every context of the kubeconfig, collected concurrently.",
        ),
        click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Kubeconfig file."),
        click.option("--profile", "profiles", multiple=True, help="AWS profile (repeatable)."),
        click.option("--region", "regions", multiple=True, help="AWS region (repeatable)."),
        click.option("--all-regions", is_flag=True, help="Every enabled AWS region."),
        click.option(
            "--organization",
            is_flag=True,
            default=None,
            help="The AWS credentials are an organisation's management (or delegated "
            "administrator) account: collect every active account through a role.",
        ),
        click.option(
            "--endpoint-url", help="AWS endpoint for every client (else $AWS_ENDPOINT_URL)."
        ),
        click.option(
            "--from",
            "from_paths",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Offline dump: kubectl -o json, aws iam get-account-authorization-details "
            "JSON, or a credential report CSV (file or directory; repeatable).",
        ),
        click.option(
            "--probe",
            is_flag=True,
            help="Also probe, from outside, the endpoints the collectors found (httpx).",
        ),
        click.option(
            "--probe-url",
            "probe_urls",
            multiple=True,
            metavar="URL",
            help="Also probe this http(s) URL (repeatable; implies --probe).",
        ),
        click.option(
            "--probe-allow-private",
            is_flag=True,
            default=None,
            help="Probe endpoints on loopback, private and link-local addresses too.",
        ),
        click.option(
            "--probe-ca-bundle",
            type=click.Path(exists=True, dir_okay=False),
            help="Extra CA certificates (PEM) the probe trusts.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


NO_TARGETS: dict[str, Any] = {
    "contexts": (),
    "all_contexts": None,
    "organization": None,
    "kubeconfig": None,
    "profiles": (),
    "regions": (),
    "all_regions": False,
    "endpoint_url": None,
    "from_paths": (),
    "probe": False,
    "probe_urls": (),
    "probe_allow_private": None,
    "probe_ca_bundle": None,
}


def target_request(
    config,
    contexts,
    kubeconfig,
    profiles,
    regions,
    all_regions,
    endpoint_url,
    from_paths,
    probe=False,
    probe_urls=(),
    probe_allow_private=None,
    probe_ca_bundle=None,
    all_contexts=None,
    organization=None,
    fleet=None,
):
    """A TargetRequest from the options above and the configuration."""
    from postureapp.collectors.registry import TargetRequest, organization_options

    probe_target = None
    if probe or probe_urls or probe_allow_private or probe_ca_bundle:
        from postureapp.collectors.probe import probe_target as build_probe

        probe_target = build_probe(
            config,
            list(probe_urls),
            allow_private=probe_allow_private or None,
            ca_bundle=probe_ca_bundle,
        )
    return TargetRequest(
        probe=probe_target,
        contexts=list(contexts) or config.get("targets.kube_contexts"),
        kubeconfig=kubeconfig or next(iter(config.get("targets.kubeconfig")), None),
        profiles=list(profiles) or config.get("targets.aws_profiles"),
        regions=list(regions) or config.get("targets.aws_regions"),
        all_regions=all_regions,
        endpoint_url=endpoint_url,
        offline_paths=list(from_paths),
        all_contexts=bool(
            all_contexts if all_contexts is not None else config.get("fleet.kube_all_contexts")
        ),
        organization=organization_options(config, organization, fleet),
    )


def resolve(config, **options: Any) -> list[Target]:
    """The targets the options name, every one checked; nothing is polled yet.

    Raises:
        InputError: nothing to poll, or a target that cannot work (see the module doc).
    """
    from postureapp.collectors.registry import resolve_targets

    targets = resolve_targets(target_request(config, **{**NO_TARGETS, **options}))
    validate_targets(targets)
    return targets


def validate_targets(targets: list[Target]) -> None:
    """What can be checked of each target without polling it (kube contexts and offline
    dumps are checked when the targets are built)."""
    for target in targets:
        if target.provider in ("aws", "aws-organizations"):
            _check_aws(target)
        elif target.provider == "probe":
            _check_ca_bundle(target.options.get("ca_bundle"))


def _check_aws(target: Target) -> None:
    import botocore.session

    from postureapp.collectors.aws.collector import parse_options

    raw = dict(target.options)
    try:
        if target.provider == "aws-organizations":
            from postureapp.collectors.aws.organizations import split_options

            _selection, raw = split_options(raw)
        options = parse_options(raw)
    except ValueError as error:
        raise InputError(f"AWS target {target.name}: {error}") from None
    session = botocore.session.Session()
    profiles = sorted(session.available_profiles)
    named = target.name if target.name not in ("", "default") else os.environ.get("AWS_PROFILE")
    if named and named not in profiles:
        source = "" if named == target.name else " ($AWS_PROFILE)"
        raise InputError(
            f"AWS profile {named!r}{source} not found in ~/.aws/config or ~/.aws/credentials "
            f"(available: {', '.join(profiles) or 'none'})"
        )
    known = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    }
    for region in options.regions:
        if region not in known:
            examples = ", ".join(sorted(r for r in known if r.startswith(region[:2]))[:6])
            raise InputError(
                f"unknown AWS region {region!r}"
                + (f" (known like it: {examples})" if examples else "")
                + "; if it is new, upgrade botocore"
            )


def _check_ca_bundle(path: str | None) -> None:
    if not path:
        return
    import ssl

    from postureapp.collectors.probe.prober import verify_context

    try:
        verify_context(path)
    except ssl.SSLError:
        raise InputError(
            f"probe CA bundle {path}: no PEM certificate in it "
            "(expected -----BEGIN CERTIFICATE----- blocks)"
        ) from None
    except OSError as error:
        raise InputError(f"probe CA bundle {path}: cannot read ({error.strerror})") from None
