"""The collector contract.

A collector is given a :class:`~postureapp.model.Target` and returns every resource it
could read plus one :class:`~postureapp.model.CollectorRun` saying how that went. It
never raises: permission denied, throttling, timeouts and malformed answers become the
run's status and error text, and a kind it could not read is listed in ``run.unknown``
so that checks needing it say *unknown* rather than *pass*.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeGuard, runtime_checkable

from postureapp.model import CollectorRun, KindRead, Resource, RunStatus, Target, unknown_key

if TYPE_CHECKING:
    from postureapp.inventory import Inventory

# Set by the engine in the thread running one collection, and set off when it abandons
# that run at its timeout: a collector that looks stops starting requests (retries,
# pages, queued units), so what it holds is released soon after, not minutes later.
_ABANDONED: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "posture_abandoned", default=None
)


def abandon_signal() -> threading.Event:
    """A fresh signal for the collection about to run in this thread (the engine's)."""
    event = threading.Event()
    _ABANDONED.set(event)
    return event


def current_abandon_signal() -> threading.Event:
    """This collection's signal: set once the engine has given up on it. Outside the
    engine (a test calling a collector) it is never set."""
    return _ABANDONED.get() or threading.Event()


@dataclass(slots=True)
class CollectResult:
    resources: list[Resource]
    run: CollectorRun
    # Targets this run found (an organisation's member accounts): the engine collects
    # them in the same poll, under the same bounds, timeout and containment.
    discovered: list[Target] = field(default_factory=list)


@runtime_checkable
class Collector(Protocol):
    """What the engine needs of a collector."""

    name: str
    provider: str

    def collect(self, target: Target) -> CollectResult:
        """Read everything this collector knows about from ``target``; never raise."""
        ...


class DependentCollector(Collector, Protocol):
    """A collector that reads this poll's inventory (the probe): the engine runs it last."""

    needs_inventory: bool

    def collect(self, target: Target, inventory: Inventory | None = None) -> CollectResult:
        """Read ``target`` knowing what the other collectors found; never raise."""
        ...


def needs_inventory(collector: Collector) -> TypeGuard[DependentCollector]:
    """Whether ``collector`` is a dependent one, to be given the poll's inventory."""
    return bool(getattr(collector, "needs_inventory", False))


@dataclass
class RunRecorder:
    """Book-keeping shared by collectors: timing, API call count, unknown kinds, errors.

    Use it as a context manager around the collection; ``finish()`` returns the run
    record with a status derived from what was recorded.
    """

    collector: str
    target: str
    scope: str = ""
    api_calls: int = 0
    unknown: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    error: str = ""
    failed: bool = False
    provider: str = ""  # set when the collector name is not the provider (offline)
    _started: float = field(default_factory=time.perf_counter)

    def call(self, count: int = 1) -> None:
        self.api_calls += count

    def mark_unknown(self, kind: str, reason: str, within: str | None = None) -> None:
        """This kind could not be read: checks that need it will say unknown. ``within``
        narrows that to one part of the run's scope (an AWS region)."""
        self.unknown[unknown_key(kind, within)] = reason

    def mark_read(self, kind: str) -> None:
        """This kind was listed: what came back (maybe nothing) is what exists."""
        self.kinds.setdefault(kind, KindRead.READ)

    def mark_not_served(self, kind: str) -> None:
        """The API of this kind is not served here (no CRD, no such service): its absence
        is an answer, not a gap."""
        self.kinds[kind] = KindRead.NOT_SERVED

    def fail(self, error: str) -> None:
        """The whole target could not be read (bad credentials, unreachable...)."""
        self.failed = True
        self.error = error

    def finish(self, items: int) -> CollectorRun:
        if self.failed:
            status = RunStatus.FAILED
        elif self.unknown:
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.OK
        error = self.error
        if not error and self.unknown:
            error = "; ".join(f"{kind}: {why}" for kind, why in sorted(self.unknown.items()))
        return CollectorRun(
            collector=self.collector,
            target=self.target,
            status=status,
            scope=self.scope,
            error=error,
            items=items,
            api_calls=self.api_calls,
            seconds=round(time.perf_counter() - self._started, 3),
            unknown=dict(self.unknown),
            provider=self.provider or self.collector,
            kinds={
                kind: str(state)
                for kind, state in sorted(self.kinds.items())
                if kind not in self.unknown
            },
        )
