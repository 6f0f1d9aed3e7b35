"""The probe collector: what an attacker on the internet would see of the endpoints
the other collectors found (opt-in: ``--probe``, ``--probe-url``).

It is a *dependent* collector (``needs_inventory``): the engine runs it after the
primary collectors, with their inventory, so it probes only published endpoints.
When a primary collection failed or was partial, the run is partial too and says
which endpoints may be missing — an endpoint never seen is never reported clean.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any

from collectors.base import CollectResult, RunRecorder
from collectors.probe.discovery import Endpoint, discover, parse_probe_url
from collectors.probe.normalise import KIND, SCOPE, to_resource
from collectors.probe.prober import ProbeSettings, probe
from postureapp.inventory import Inventory
from postureapp.model import Resource, Target

__all__ = ["ProbeCollector", "parse_probe_url", "probe_endpoints", "probe_target"]

TARGET_NAME = "probe"


def probe_target(
    config: Any,
    urls: list[str] | tuple[str, ...] = (),
    *,
    allow_private: bool | None = None,
    ca_bundle: str | None = None,
) -> Target:
    """The probe target from configuration plus flags (also what the dashboard's probe
    toggle adds to its target list).

    Raises:
        InputError: a malformed URL, before anything is polled.
    """
    for url in urls:
        parse_probe_url(url)
    return Target(
        provider="probe",
        name=TARGET_NAME,
        options={
            "urls": list(urls),
            "allow_private": bool(
                config.get("probe.allow_private") if allow_private is None else allow_private
            ),
            "concurrency": config.get("probe.concurrency"),
            "timeout": config.get("probe.timeout_seconds"),
            "budget": config.get("probe.budget_seconds"),
            "ca_bundle": ca_bundle or config.get("probe.ca_bundle") or None,
            "only_hosts": list(config.get("probe.only_hosts")),
        },
    )


def probe_endpoints(
    endpoints: list[Endpoint],
    settings: ProbeSettings,
    *,
    concurrency: int = 10,
    budget: float = 120.0,
) -> list[Resource]:
    """Probe every endpoint, ``concurrency`` at a time, within ``budget`` seconds; an
    endpoint not started in time is recorded as skipped, never dropped."""
    deadline = time.monotonic() + budget
    results: dict[int, dict[str, Any]] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="probe")
    futures: dict[Future, int] = {
        pool.submit(probe, endpoint, settings, deadline): index
        for index, endpoint in enumerate(endpoints)
    }
    pending = set(futures)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        done, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
        for future in done:
            results[futures[future]] = future.result()
    # Requests carry their own timeouts, so abandoned workers end on their own.
    pool.shutdown(wait=False, cancel_futures=True)
    resources = []
    for index, endpoint in enumerate(endpoints):
        facts = results.get(index)
        if facts is None:
            facts = {"skipped": "the probe's time budget ran out before this endpoint"}
        resources.append(to_resource(endpoint, facts))
    return resources


def _named_after_publisher(resource: Resource, inventory: Inventory) -> Resource:
    """ "argocd-server http://10.0.0.7:80/": a row in the Endpoints view says whose endpoint
    answered, not only an address (the uid stays the origin, so fingerprints do not
    move when publishers do)."""
    published = [inventory.get(uid) for uid in resource.attrs.get("exposed_by") or []]
    names = sorted({p.name for p in published if p is not None})
    if not names:
        return resource
    more = f" +{len(names) - 1}" if len(names) > 1 else ""
    return replace(resource, name=f"{names[0]}{more} {resource.attrs['url']}")


class ProbeCollector:
    """Probes endpoints found in this poll's inventory plus the target's URLs."""

    name = "probe"
    provider = "probe"
    needs_inventory = True

    def collect(self, target: Target, inventory: Inventory | None = None) -> CollectResult:
        """Probe what ``inventory`` publishes; never raises."""
        recorder = RunRecorder(self.name, target.name, scope=SCOPE)
        options = target.options
        resources: list[Resource] = []
        note = ""
        try:
            if inventory is None:  # not "or": an inventory of nothing is falsy
                inventory = Inventory(resources=[])
            endpoints, gaps = discover(inventory, list(options.get("urls") or []))
            if gaps:
                # Not EndpointProbe: the endpoints that were probed are judged as usual;
                # the gap makes the run partial and lost findings carry forward as unknown.
                recorder.mark_unknown(
                    "EndpointDiscovery", "fewer endpoints seen: " + "; ".join(gaps)
                )
            only = {host.lower() for host in options.get("only_hosts") or []}
            if only:
                # The user narrowed the probe's scope: the rest is out of scope, not unseen.
                kept = [e for e in endpoints if e.host.lower() in only]
                if len(kept) < len(endpoints):
                    note = f"{len(endpoints) - len(kept)} endpoints outside probe.only_hosts"
                endpoints = kept
            settings = ProbeSettings(
                timeout=float(options.get("timeout") or 5),
                allow_private=bool(options.get("allow_private")),
                ca_bundle=options.get("ca_bundle"),
            )
            resources = probe_endpoints(
                endpoints,
                settings,
                concurrency=int(options.get("concurrency") or 10),
                budget=float(options.get("budget") or 120),
            )
            resources = [_named_after_publisher(r, inventory) for r in resources]
            recorder.call(len(endpoints))
            skipped = [r for r in resources if r.attrs.get("skipped")]
            if skipped:
                first = skipped[0].attrs["skipped"]
                note = "; ".join(
                    filter(
                        None,
                        [
                            note,
                            f"{len(skipped)} of {len(resources)} endpoints not probed ({first})",
                        ],
                    )
                )
        except Exception as error:  # a collector never raises past the engine
            recorder.fail(f"{type(error).__name__}: {error}")
        run = recorder.finish(len(resources))
        if note and not recorder.failed:
            # Refusing a private address is policy, not failure: the run stays ok, but
            # the CLI and the dashboard show the note.
            run.error = "; ".join(filter(None, [run.error, note]))
        return CollectResult(resources=resources, run=run)


KINDS = (KIND,)
