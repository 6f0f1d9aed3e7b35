"""The app's polling: a self-rescheduling timer, a worker per poll, pause and probes.

A mixin of :class:`~postureapp.tui.app.PostureApp` (kept apart so app.py stays about
screens and navigation). Handlers are named ``on_<message>``: a mixin is not a
MessagePump, so ``@on`` decorators here would not be collected.

A partial or failed poll is always in the header. It pops up a notification only when
it is *new*: a collector run that was not failing that way before in this session, and
whose unread kinds were not announced as expected (the demo's moto lacks a few APIs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.timer import Timer
from textual.worker import get_current_worker

from postureapp.model import CollectorRun, RunStatus, SnapshotStatus, Target
from postureapp.store import Store
from postureapp.tui.messages import PollFailed, PollFinished, PollProgressed
from postureapp.tui.widgets.header import expected_partial

if TYPE_CHECKING:
    # The poll (the engine, the collectors, the check catalog) is imported when a poll
    # runs: an offline dashboard never pays for it.
    from postureapp.engine import ProgressCallback
    from postureapp.poll import PollResult

Poller = Callable[[Store, "ProgressCallback"], "PollResult"]


def failure_signature(run: CollectorRun) -> tuple[str, ...]:
    """What makes a failing run "the same failure again": who, how, and what was not
    read (the wording of an error may change from poll to poll; its kinds do not)."""
    unread = sorted(run.unknown) or [run.error.split(":", 1)[0]]
    return (run.collector, run.target, run.status.value, *unread)


class PollingMixin:
    """Needs the app's ``db_path``, ``config``, ``targets``, ``offline``, ``interval``,
    ``poller``, ``queries`` and ``_reload``/``_refresh_headers``."""

    db_path: Path
    config: Any
    targets: list[Target]
    offline: bool
    interval: int
    poller: Poller
    expected_unknown: Mapping[str, str]
    polling: bool
    paused: bool
    poll_progress: tuple[int, int] | None
    poll_error: str
    last_poll: PollResult | None
    _poll_timer: Timer | None
    _next_poll_at: float | None
    _announced: set[tuple[str, ...]]
    _probe_targets: list[Target]

    def _default_poller(self, store: Store, progress: ProgressCallback) -> PollResult:
        from postureapp.poll import run_poll

        return run_poll(store, self.config, self.targets, progress=progress)

    @property
    def probing(self) -> bool:
        """Whether the next poll probes the discovered endpoints."""
        return any(target.provider == "probe" for target in self.targets)

    def start_poll(self) -> bool:
        """Start a poll now unless one is running (or the dashboard is offline)."""
        app: Any = self
        if self.offline:
            app.notify("Offline: reading the cache only, no polling.", severity="warning")
            return False
        if self.polling:
            app.notify("A poll is already running.")
            return False
        self._cancel_timer()
        self.polling = True
        self.poll_error = ""
        self.poll_progress = (0, len(self.targets))
        app._refresh_headers()
        self._poll_worker()
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll_worker(self) -> None:
        app: Any = self
        worker = get_current_worker()
        outcome: dict[str, Any] = {}
        lock = threading.Lock()
        done = 0
        targets = list(self.targets)
        total = len(targets)

        def progress(event: str, target: Target, run: Any) -> None:
            nonlocal done, total
            if event not in ("finished", "discovered"):
                return
            with lock:
                if event == "finished":
                    done += 1
                else:  # an organisation's account, collected in this poll: the total grows
                    total += 1
                count, of = done, total
            app.post_message(PollProgressed(count, of, target.label))

        def poll() -> None:
            try:
                with Store(self.db_path) as store:
                    outcome["result"] = self.poller(store, progress)
            except Exception as error:
                outcome["error"] = f"{type(error).__name__}: {error}"

        # The poll runs in a daemon thread that this worker waits on, so quitting the
        # dashboard mid-poll does not wait for a slow collector; an unfinished snapshot
        # transaction is never committed, so the cache keeps its last whole snapshot.
        thread = threading.Thread(target=poll, name="posture-poll", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            if worker.is_cancelled:
                return
        if "result" in outcome:
            app.post_message(PollFinished(outcome["result"]))
        else:
            app.post_message(PollFailed(outcome.get("error", "the poll ended without a result")))

    def on_poll_progressed(self, message: PollProgressed) -> None:
        if self.polling:
            self.poll_progress = (message.done, message.total)
            self._refresh_headers()  # type: ignore[attr-defined]

    def on_poll_finished(self, message: PollFinished) -> None:
        self.polling = False
        self.poll_progress = None
        self.last_poll = message.result
        self._reload()  # type: ignore[attr-defined]
        self._announce(message.result)
        self._schedule_next()

    def _announce(self, result: PollResult) -> None:
        """Notify a partial or failed poll once per new way of failing (the header shows
        it on every poll)."""
        if result.status is SnapshotStatus.COMPLETE:
            return
        new = []
        for run in result.runs:
            if run.status is RunStatus.OK or expected_partial(run, self.expected_unknown):
                continue
            signature = failure_signature(run)
            if signature not in self._announced:
                self._announced.add(signature)
                new.append(f"{run.collector}@{run.target}")
        if not new:
            return
        app: Any = self
        app.notify(
            f"Poll {result.status.value}: {', '.join(new)} did not answer fully"
            " (the header keeps showing it).",
            severity="error" if result.status is SnapshotStatus.FAILED else "warning",
            markup=False,
        )

    def on_poll_failed(self, message: PollFailed) -> None:
        app: Any = self
        self.polling = False
        self.poll_progress = None
        self.poll_error = message.error
        signature = ("poll", message.error.split(":", 1)[0])
        if signature not in self._announced:
            self._announced.add(signature)
            app.notify(f"Poll failed: {message.error}", severity="error", markup=False)
        self._schedule_next()
        app._refresh_headers()

    def _schedule_next(self) -> None:
        app: Any = self
        self._cancel_timer()
        if self.offline or self.paused:
            return
        self._next_poll_at = time.monotonic() + self.interval
        self._poll_timer = app.set_timer(self.interval, self._poll_timer_fired)

    def _poll_timer_fired(self) -> None:
        self._poll_timer = None
        self._next_poll_at = None
        self.start_poll()

    def _cancel_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._next_poll_at = None

    def next_poll_in(self) -> float | None:
        if self._next_poll_at is None:
            return None
        return max(0.0, self._next_poll_at - time.monotonic())

    # -- actions -------------------------------------------------------------------------

    def action_poll_now(self) -> None:
        self.start_poll()

    def action_toggle_pause(self) -> None:
        app: Any = self
        if self.offline:
            app.notify("Offline: there is no polling to pause.", severity="warning")
            return
        self.paused = not self.paused
        if self.paused:
            self._cancel_timer()
            app.notify("Polling paused (p resumes).")
        else:
            if not self.polling:
                self._schedule_next()
            app.notify("Polling resumed.")
        app._refresh_headers()

    def action_toggle_probe(self) -> None:
        """Add or drop the endpoint probe from the targets of the next polls."""
        app: Any = self
        if self.offline:
            app.notify("Offline: nothing is polled, so nothing is probed.", severity="warning")
            return
        probes = [target for target in self.targets if target.provider == "probe"]
        if probes:
            # Kept so that turning probes back on restores the same options (the demo's
            # CA bundle and host list, --probe-url entries) rather than plain defaults.
            self._probe_targets = probes
            self.targets = [target for target in self.targets if target.provider != "probe"]
            app.notify("Endpoint probes off from the next poll.")
        else:
            from postureapp.collectors.probe import probe_target

            self.targets = [*self.targets, *(self._probe_targets or [probe_target(self.config)])]
            app.notify(
                "Endpoint probes on from the next poll (r polls now): discovered endpoints "
                "are probed from this machine."
            )
        app.header_info = app.queries.header(self.targets)
        app._refresh_headers()
