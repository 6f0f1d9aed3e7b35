"""The probe collector: what an attacker on the internet would see of the endpoints
the other collectors found (opt-in: ``--probe``, ``--probe-url``).

It is a *dependent* collector (``needs_inventory``): the engine runs it after the
primary collectors, with their inventory, so it probes only published endpoints.
When a primary collection failed or was partial, the run is partial too and says
which endpoints may be missing — an endpoint never seen is never reported clean.

The budget (``probe.budget_seconds``) bounds the whole run, whatever the servers do:
at its end, endpoints not yet started are *skipped*, and those being probed are
abandoned — their connections shut down, so a server trickling bytes cannot keep a
request alive — and recorded as *incomplete*. Workers are daemon threads, so nothing
left behind (a name still resolving) holds the process open at exit. Whatever goes
wrong on one endpoint is recorded on that endpoint; the others keep their results.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.collectors.probe.discovery import Endpoint, discover, parse_probe_url
from postureapp.collectors.probe.normalise import KIND, SCOPE, to_resource
from postureapp.collectors.probe.prober import Abort, ProbeSettings, blank_facts, probe
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


NOT_STARTED = "the probe's time budget ran out before this endpoint"
ABANDONED = "the probe's time budget ran out while probing this endpoint"


class _Run:
    """Endpoints handed to worker threads in turn, and the results that came back in time.

    Workers are daemon threads, not a ThreadPoolExecutor: the interpreter joins an
    executor's threads at exit, so one request that cannot be interrupted (a name
    resolution, a connect) would hold ``posture snapshot --probe`` open past its
    budget. Requests that can be interrupted are, through each endpoint's Abort.
    """

    def __init__(self, endpoints: list[Endpoint], settings: ProbeSettings, deadline: float):
        self.endpoints = endpoints
        self.settings = settings
        self.deadline = deadline
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.next = 0
        self.results: dict[int, dict[str, Any]] = {}
        self.running: dict[int, Abort] = {}
        self.closed = False

    def work(self) -> None:
        while True:
            with self.lock:
                if (
                    self.closed
                    or self.next >= len(self.endpoints)
                    or time.monotonic() >= self.deadline
                ):
                    return
                index = self.next
                self.next += 1
                abort = self.running[index] = Abort()
            facts = probe(self.endpoints[index], self.settings, self.deadline, abort)
            with self.lock:
                del self.running[index]
                if not self.closed:  # after the deadline the endpoint is already abandoned
                    self.results[index] = facts
                    self.changed.notify_all()

    def wait(self) -> set[int]:
        """Wait for every result or the deadline; returns the endpoints abandoned midway."""
        with self.lock:
            while len(self.results) < len(self.endpoints):
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            self.closed = True
            abandoned = dict(self.running)
        for abort in abandoned.values():
            abort.abort()
        return set(abandoned)


def probe_endpoints(
    endpoints: list[Endpoint],
    settings: ProbeSettings,
    *,
    concurrency: int = 10,
    budget: float = 120.0,
) -> list[Resource]:
    """Probe every endpoint, ``concurrency`` at a time, and return within ``budget``
    seconds whatever the servers do. An endpoint not started in time is recorded as
    skipped, one still being probed as incomplete (nothing else known about it: a
    half-written result from a thread being stopped is not evidence); none is dropped."""
    run = _Run(endpoints, settings, time.monotonic() + budget)
    for number in range(min(max(1, concurrency), len(endpoints))):
        threading.Thread(target=run.work, name=f"probe-{number}", daemon=True).start()
    abandoned = run.wait()
    resources = []
    for index, endpoint in enumerate(endpoints):
        facts = run.results.get(index)
        if facts is None:
            facts = blank_facts()
            if index in abandoned:
                facts["incomplete"] = ABANDONED
            else:
                facts["skipped"] = NOT_STARTED
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
            note = "; ".join(filter(None, [note, _unfinished(resources)]))
        except Exception as error:  # a collector never raises past the engine
            recorder.fail(f"{type(error).__name__}: {error}")
        run = recorder.finish(len(resources))
        if note and not recorder.failed:
            # Refusing a private address is policy, not failure: the run stays ok, but
            # the CLI and the dashboard show the note.
            run.error = "; ".join(filter(None, [run.error, note]))
        return CollectResult(resources=resources, run=run)


def _unfinished(resources: list[Resource]) -> str:
    """How many endpoints were not probed, abandoned mid-probe, or failed, and why."""
    total = len(resources)
    parts = []
    skipped = [r.attrs["skipped"] for r in resources if r.attrs.get("skipped")]
    if skipped:
        parts.append(f"{len(skipped)} of {total} endpoints not probed ({skipped[0]})")
    abandoned = sum(1 for r in resources if r.attrs.get("incomplete") == ABANDONED)
    if abandoned:
        parts.append(f"{abandoned} of {total} endpoints abandoned mid-probe ({ABANDONED})")
    failed = [
        r.attrs["error"]
        for r in resources
        if r.attrs.get("reachable") is None and r.attrs.get("error")
    ]
    if failed:
        parts.append(f"{len(failed)} of {total} endpoints failed ({failed[0]})")
    return "; ".join(parts)


KINDS = (KIND,)
