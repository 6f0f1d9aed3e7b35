"""The AWS collector: one boto3 session per target (an AWS profile), the account found with
``sts:GetCallerIdentity``, then every service read in bounded parallel work units.

Target options (all optional):

``regions``            list of region names (default: the profile's region, else us-east-1)
``all_regions``        read every region enabled for the account (``ec2:DescribeRegions``)
``endpoint_url``       send every call there (an emulator); without it boto3's own
                       ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` and the
                       profile's ``endpoint_url`` / ``services`` settings apply
``services``           subset of :data:`SERVICES` to read (default: all)
``connect_timeout``    seconds, per connection attempt (default 5)
``read_timeout``       seconds, per answer (default 30)
``max_attempts``       attempts per call, throttling and timeouts included (default 5;
                       botocore's adaptive retry mode backs off and rate-limits)
``max_workers``        concurrent calls for the target (default 8)
``deadline``           seconds for the whole target; what is unfinished is unknown
                       (default 600, ``None`` for no limit)
``credential_report_wait``  seconds to wait for IAM to generate the report (default 30)
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from postureapp.collectors.aws import (
    apigateway,
    ec2,
    eks,
    elb,
    governance,
    iam,
    logs,
    rds,
    s3,
    secrets,
    waf,
)
from postureapp.collectors.aws._common import (
    AwsCallError,
    account_of_arn,
    fallback_uid,
    partition_of_arn,
    plain,
    scope,
)
from postureapp.collectors.aws._context import Context, Options, Unit, make_client
from postureapp.collectors.aws.assume import assumed_session, refusal, role_options
from postureapp.collectors.base import CollectResult, RunRecorder, current_abandon_signal
from postureapp.collectors.pool import DaemonPool
from postureapp.model import Resource, Target

log = logging.getLogger(__name__)

SERVICES = (
    "iam",
    "ec2",
    "elbv2",
    "apigateway",
    "s3",
    "rds",
    "eks",
    "secretsmanager",
    "kms",
    "acm",
    "cloudtrail",
    "config",
    "guardduty",
    "backup",
    "securityhub",
    "wafv2",
    "logs",
)
DEFAULT_REGION = "us-east-1"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

SessionFactory = Callable[[str | None], Any]


def default_session(profile: str | None) -> Any:
    import boto3

    session = boto3.Session(profile_name=profile)
    share_models(session)
    return session


_LOADER: list[Any] = []


def share_models(session: Any) -> None:
    """Give the session the process's one botocore loader, which keeps every service
    model it parsed: an organisation's accounts each have their own sessions, and
    parsing the EC2 model alone again for each cost ~0.3 s of CPU and tens of MB."""
    botocore_session = session._session
    with _LOADER_LOCK:
        if not _LOADER:
            _LOADER.append(botocore_session.get_component("data_loader"))
            return
    botocore_session.register_component("data_loader", _LOADER[0])


_LOADER_LOCK = threading.Lock()


def targets(
    profiles: Sequence[str],
    regions: Sequence[str],
    all_regions: bool = False,
    endpoint_url: str | None = None,
) -> list[Target]:
    """One target per profile (``"default"``, the default credential chain, when none)."""
    names = list(dict.fromkeys(p for p in profiles if p)) or ["default"]
    options: dict[str, Any] = {"regions": list(regions), "all_regions": bool(all_regions)}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    return [Target(provider="aws", name=name, options=dict(options)) for name in names]


def parse_options(raw: Mapping[str, Any]) -> Options:
    """Validate target options; a ValueError names the option that is wrong."""
    known = set(Options.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"unknown AWS target option(s): {', '.join(unknown)}")
    regions = raw.get("regions") or ()
    if isinstance(regions, str):
        regions = [r.strip() for r in regions.split(",") if r.strip()]
    if not isinstance(regions, list | tuple) or not all(isinstance(r, str) for r in regions):
        raise ValueError("option 'regions' must be a list of region names")
    bad = [r for r in regions if not _REGION.match(r)]
    if bad:
        raise ValueError(f"not an AWS region name: {', '.join(bad)}")
    services = raw.get("services")
    if services is not None:
        if isinstance(services, str):
            services = [s.strip() for s in services.split(",") if s.strip()]
        if not isinstance(services, list | tuple | set | frozenset) or not all(
            isinstance(s, str) for s in services
        ):
            raise ValueError("option 'services' must be a list of service names")
        wrong = sorted(set(services) - set(SERVICES))
        if wrong:
            raise ValueError(
                f"unknown AWS service(s): {', '.join(wrong)} (choose from {', '.join(SERVICES)})"
            )
        services = frozenset(services)
    endpoint = raw.get("endpoint_url") or None
    if endpoint is not None and not re.match(r"^https?://", str(endpoint)):
        raise ValueError(f"endpoint_url must start with http:// or https://, not {endpoint!r}")

    def number(name: str, minimum: float, cast: type = float) -> Any:
        value = raw.get(name, Options.__dataclass_fields__[name].default)
        if value is None and name == "deadline":
            return None
        try:
            value = cast(value)
        except (TypeError, ValueError):
            raise ValueError(f"option {name!r} must be a number, not {value!r}") from None
        if value < minimum:
            raise ValueError(f"option {name!r} must be at least {minimum}")
        return value

    return Options(
        regions=tuple(dict.fromkeys(regions)),
        all_regions=bool(raw.get("all_regions", False)),
        endpoint_url=endpoint,
        services=services,
        connect_timeout=number("connect_timeout", 0.1),
        read_timeout=number("read_timeout", 0.1),
        max_attempts=number("max_attempts", 1, int),
        max_workers=number("max_workers", 1, int),
        deadline=number("deadline", 1),
        credential_report_wait=number("credential_report_wait", 0),
        **role_options(raw),
    )


class AwsCollector:
    """Reads one AWS account per target; never raises (see ``postureapp.collectors.base``)."""

    name = "aws"
    provider = "aws"

    def __init__(
        self, session_factory: SessionFactory | None = None, max_concurrency: int | None = None
    ) -> None:
        self._session_factory = session_factory or default_session
        self._lock = threading.Lock()
        # One bound across every target this collector reads at once (an organisation's
        # accounts x regions): units wait for a slot, so API calls in flight stay few.
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        # Calls per service of the last collection of each target, for diagnostics and
        # the benchmark (the run record only has the total).
        self.calls_by_service: dict[str, dict[str, int]] = {}

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(collector=self.name, target=target.name)
        resources: list[Resource] = []
        calls: Counter[str] = Counter()
        try:
            resources = self._collect(target, recorder, calls)
        except Exception as exc:  # the contract: a collector never raises past the engine
            log.exception("aws collector failed on %s", target.label)
            recorder.fail(f"unexpected error: {type(exc).__name__}: {exc}")
        recorder.call(sum(calls.values()))
        with self._lock:
            self.calls_by_service[target.name] = dict(calls)
        return CollectResult(resources=resources, run=recorder.finish(len(resources)))

    # -- one target ----------------------------------------------------------------------

    def _collect(
        self, target: Target, recorder: RunRecorder, calls: Counter[str]
    ) -> list[Resource]:
        try:
            options = parse_options(target.options)
        except ValueError as exc:
            recorder.fail(str(exc))
            return []
        if options.account:  # a member account: its scope is known before any call
            recorder.scope = options.account
            session = self._member_session(options, recorder, calls)
        else:
            profile = None if target.name in ("", "default") else target.name
            session = self._open_session(profile, recorder)
        if session is None:
            return []
        region = (options.regions[0] if options.regions else None) or session.region_name
        ctx = Context(
            session=session,
            account="",
            partition="aws",
            options=options,
            default_region=region or DEFAULT_REGION,
            calls=calls,
        )
        if not self._identify(ctx, target, recorder):
            return []
        if options.account and ctx.account != options.account:
            recorder.fail(f"expected account {options.account}, the credentials are {ctx.account}")
            return []
        recorder.scope = ctx.account

        regions = self._regions(ctx)
        services = set(options.services or SERVICES)
        units = _plan(ctx, regions, services)
        resources = _run(ctx, units, self._slots)
        for finalise, kinds in ctx.finalisers():
            try:
                finalise(resources)
            except Exception as exc:  # a bug, or an answer of an unexpected shape
                log.debug("finaliser failed", exc_info=True)
                for kind in kinds:
                    ctx.unknown(kind, f"cross-referencing failed: {type(exc).__name__}: {exc}")
        resources.extend(_region_markers(ctx, regions))
        for resource in resources:  # a safety net: attrs are plain JSON, whatever a module did
            resource.attrs = plain(resource.attrs)
        for kind in ctx.read_kinds():
            recorder.mark_read(kind)
        for (kind, region), reason in ctx.unknown_reasons(regions).items():
            recorder.mark_unknown(kind, reason, within=region)
        log.debug("aws %s: %d resources, calls %s", target.name, len(resources), dict(calls))
        return _dedupe(resources)

    def _open_session(self, profile: str | None, recorder: RunRecorder) -> Any:
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        try:
            return self._session_factory(profile)
        except ProfileNotFound:
            recorder.fail(
                f"AWS profile {profile!r} not found (looked in AWS_CONFIG_FILE / ~/.aws/config "
                "and the credentials file)"
            )
        except BotoCoreError as exc:
            recorder.fail(f"cannot open an AWS session for {profile or 'default'}: {exc}")
        return None

    def _member_session(self, options: Options, recorder: RunRecorder, calls: Counter[str]) -> Any:
        """The session of an organisation's account: the source credentials' own (the
        caller's account), or the role assumed there; a refusal fails this run only."""
        profile = options.source_profile
        source = self._open_session(profile, recorder)
        if source is None or not options.role_arn:
            return source
        try:
            return assumed_session(
                source,
                lambda: self._session_factory(profile),
                lambda session, service, region: make_client(session, service, region, options),
                options,
                (options.regions[0] if options.regions else None) or DEFAULT_REGION,
                calls,
            )
        except AwsCallError as exc:
            recorder.fail(refusal(exc, options))
            return None

    def _identify(self, ctx: Context, target: Target, recorder: RunRecorder) -> bool:
        who = (
            f"profile {target.name!r}"
            if target.name not in ("", "default")
            else ("the default credential chain")
        )
        try:
            answer = ctx.call(ctx.client("sts"), "get_caller_identity") or {}
        except AwsCallError as exc:
            if exc.credentials:
                recorder.fail(
                    f"AWS credentials for {who} are missing, expired or invalid: {exc.reason}. "
                    "Refresh them (e.g. `aws sso login`) or pick another profile."
                )
            else:
                recorder.fail(f"cannot identify the AWS account for {who}: {exc.reason}")
            return False
        arn = str(answer.get("Arn", ""))
        account = str(answer.get("Account") or account_of_arn(arn) or "")
        if not account:
            recorder.fail(f"sts:GetCallerIdentity for {who} returned no account id")
            return False
        ctx.account = account
        ctx.partition = partition_of_arn(arn)
        return True

    def _regions(self, ctx: Context) -> list[str]:
        options = ctx.options
        if not options.all_regions:
            return list(options.regions) or [ctx.default_region]
        try:
            answer = ctx.call(ctx.client("ec2"), "describe_regions") or {}
        except AwsCallError as exc:
            ctx.unknown("AWSRegion", f"{exc.reason}; read only {ctx.default_region}")
            return list(options.regions) or [ctx.default_region]
        regions = sorted(
            r["RegionName"]
            for r in answer.get("Regions", [])
            if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
        )
        return regions or [ctx.default_region]


def _plan(ctx: Context, regions: list[str], services: set[str]) -> list[Unit]:
    units: list[Unit] = []
    if "iam" in services:
        units += iam.units(ctx)
    if "s3" in services:
        units += s3.units(ctx)
    if "ec2" in services:
        units += ec2.units(ctx, regions)
    if "elbv2" in services:
        units += elb.units(ctx, regions)
    if "wafv2" in services:
        units += waf.units(ctx, regions)
    if "apigateway" in services:
        units += apigateway.units(ctx, regions)
    if "rds" in services:
        units += rds.units(ctx, regions)
    if "eks" in services:
        units += eks.units(ctx, regions)
    units += secrets.units(ctx, regions, services)
    units += logs.units(ctx, regions, services)
    units += governance.units(ctx, regions, services)
    return units


def _run(
    ctx: Context, units: Iterable[Unit], slots: threading.BoundedSemaphore | None = None
) -> list[Resource]:
    """Run every unit (and the units they spawn) on a bounded pool, until done or the
    deadline; a unit that raises or does not finish marks its kinds unknown. ``slots``
    bounds units in flight across every target of the collector."""
    options = ctx.options
    deadline = None if options.deadline is None else time.monotonic() + options.deadline
    resources: list[Resource] = []
    pool = DaemonPool(options.max_workers, "posture-aws")
    pending: dict[Future[list[Resource]], Unit] = {}
    timed_out = False
    abandoned = current_abandon_signal()  # the engine gave up on this target

    def submit(unit: Unit) -> None:
        pending[pool.submit(_in_slot, unit, slots)] = unit

    try:
        for unit in units:
            submit(unit)
        while pending:
            timeout = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if abandoned.is_set():  # nobody waits for the result: start nothing more
                timed_out = True
                break
            if not done and deadline is not None and time.monotonic() >= deadline:
                timed_out = True
                for future, unit in pending.items():
                    future.cancel()
                    for kind in unit.kinds:
                        ctx.unknown(
                            kind, f"{unit.label}: not finished within {options.deadline:g}s"
                        )
                break
            for future in done:
                unit = pending.pop(future)
                try:
                    resources.extend(future.result())
                    ctx.answered(unit.kinds)
                except Exception as exc:  # a bug or an answer of an unexpected shape
                    log.debug("unit %s failed", unit.label, exc_info=True)
                    text = " ".join(str(exc).split())[:200]
                    for kind in unit.kinds:
                        ctx.unknown(kind, f"{unit.label}: {type(exc).__name__}: {text}")
            for unit in ctx.take_spawned():
                submit(unit)
    finally:
        # After the deadline, do not wait for calls still in flight: their threads end
        # on their own read timeouts, and their results are dropped.
        pool.shutdown(wait=not timed_out, cancel_futures=True)
    return resources


def _in_slot(unit: Unit, slots: threading.BoundedSemaphore | None) -> list[Resource]:
    if slots is None:
        return list(unit.run())
    with slots:
        return list(unit.run())


def _region_markers(ctx: Context, regions: list[str]) -> list[Resource]:
    """One ``AWSRegion`` per region read, so "in every region" checks know the regions.

    Kind ``AWSRegion`` (uid ``aws://{account}/{region}/AWSRegion/{region}``,
    scope ``{account}/{region}``): attrs ``{"region": str}``.
    """
    return [
        Resource(
            uid=fallback_uid(ctx.account, region, "AWSRegion", region),
            provider="aws",
            scope=scope(ctx.account, region),
            kind="AWSRegion",
            name=region,
            attrs={"region": region},
        )
        for region in regions
    ]


def _dedupe(resources: list[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.uid, resource)
    return list(seen.values())
