"""The dashboard application: state, polling, and moving between views.

Threading rules (STYLE.md, "Textual, concretely"):

* The UI reads the cache through its own :class:`Store`, opened in the main thread,
  via :class:`~postureapp.store.views.DashboardQueries`.
* Polls, trend computation, diffs and triage writes run in thread workers, each with
  its own ``Store`` (SQLite connections are not shared across threads). Workers post
  past-tense messages (``PollFinished``, ``PollFailed``...) and never touch widgets;
  the handlers here update state and tell the current screen to refresh.
* Polls are scheduled by a self-rescheduling timer: the next poll is timed from the
  end of the last one, so a slow collector never makes polls overlap.
"""

from __future__ import annotations

import gc
import getpass
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import get_current_worker

from postureapp.config import SETTINGS, Config
from postureapp.engine import ProgressCallback
from postureapp.model import Attestation, SnapshotStatus, Target, Waiver, utcnow
from postureapp.poll import PollResult
from postureapp.store import Store
from postureapp.store.views import DashboardQueries, HeaderInfo, score_trend
from postureapp.tui.actions import VIEWS, bindings, for_scopes
from postureapp.tui.commands import ActionCommands
from postureapp.tui.graphs import GraphMixin
from postureapp.tui.messages import (
    DiffComputed,
    PollFailed,
    PollFinished,
    PollProgressed,
    TrendComputed,
    TriageSaved,
)
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.screens.changes import ChangesScreen
from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.governance import GovernanceScreen
from postureapp.tui.screens.modals import HelpScreen, JumpPrompt
from postureapp.tui.screens.overview import OverviewScreen
from postureapp.tui.widgets.header import HeaderState, StatusHeader

# poller(store, progress) -> PollResult: how a poll is made (run_poll by default; tests
# hand in an Engine with scripted collectors).
Poller = Callable[[Store, ProgressCallback], PollResult]

DARK = Theme(
    name="posture-dark",
    primary="#4EA8DE",
    secondary="#7F8FA6",
    accent="#F5A623",
    warning="#F5A623",
    error="#E5484D",
    success="#46A758",
    foreground="#D8DEE9",
    background="#0F1419",
    surface="#151B23",
    panel="#1C2430",
    dark=True,
)
LIGHT = Theme(
    name="posture-light",
    primary="#0B62A4",
    secondary="#56677D",
    accent="#B45309",
    warning="#B45309",
    error="#C4262E",
    success="#2F7D3B",
    foreground="#1F2933",
    background="#F7F8FA",
    surface="#FFFFFF",
    panel="#E6EBF1",
    dark=False,
)


def default_config() -> Config:
    config = Config()
    for setting in SETTINGS:
        config.values[setting.key] = setting.default
        config.sources[setting.key] = "default"
    return config


def _freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): the form asks for one
        return ""


class PostureApp(GraphMixin, App[None]):
    """The posture dashboard.

    Args:
        db_path: the cache file.
        config: settings (poll interval, thresholds for polls).
        targets: what to poll; ``None`` (or ``offline``) means read the cache only.
        offline: never poll, even with targets.
        interval: seconds between the end of a poll and the start of the next.
        poller: how to poll (default :func:`postureapp.poll.run_poll`).
        registry: the check/control catalog (default: the shipped one).
        clock: "now" (injected in tests so ages are deterministic).
        user: default author/owner in forms.
        initial_view: the view shown first.
        freeze_gc: after start-up, move every object alive to CPython's permanent
            generation (``gc.freeze``), so a full collection no longer walks the ~60,000
            objects Textual and the app start with; it was a 40-70 ms pause every few
            seconds of scrolling. Left off in tests, where apps come and go.
        allow_write: waive, note and attest are offered; off for a dashboard served to
            a browser without ``--allow-write`` (those actions are hidden and refused).
    """

    CSS_PATH = Path(__file__).with_name("posture.tcss")  # absolute: subclasses live elsewhere
    TITLE = "posture"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS: ClassVar[set[Any]] = {ActionCommands}
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen,
        "identities": lambda: FindingsScreen("identities"),
        "endpoints": lambda: FindingsScreen("endpoints"),
        "secrets": lambda: FindingsScreen("secrets"),
        "governance": GovernanceScreen,
        "changes": ChangesScreen,
    }

    def __init__(
        self,
        db_path: Path | str,
        *,
        config: Config | None = None,
        targets: list[Target] | None = None,
        offline: bool = False,
        interval: int | None = None,
        poller: Poller | None = None,
        registry: Any = None,
        clock: Callable[[], datetime] | None = None,
        user: str | None = None,
        initial_view: str = "overview",
        freeze_gc: bool = False,
        allow_write: bool = True,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.config = config or default_config()
        self.targets = list(targets or [])
        self.offline = offline or targets is None or not self.targets
        self.interval = interval or self.config.get("poll.interval_seconds")
        self.poller = poller or self._default_poller
        if registry is None:
            import postureapp.checks  # noqa: F401  (registers the shipped catalog)
            from postureapp.checks.registry import REGISTRY

            registry = REGISTRY
        self.registry = registry
        self.clock = clock or utcnow
        self.user = _current_user() if user is None else user
        if initial_view not in VIEWS:
            raise ValueError(f"unknown view {initial_view!r}")
        self.initial_view = initial_view
        self.freeze_gc = freeze_gc
        self.allow_write = allow_write
        # Opened here, in the thread that runs the app, and only used from it.
        self.store = Store(self.db_path)
        self.queries = DashboardQueries(self.store, clock=self.clock)
        self.header_info: HeaderInfo | None = None
        self.data_generation = 0
        self.trend_points: list[tuple[int, float | None]] = []
        self._trend_generation = -1
        self.polling = False
        self.paused = False
        self.poll_progress: tuple[int, int] | None = None
        self.poll_error = ""
        self.last_poll: PollResult | None = None
        self._poll_timer: Timer | None = None
        self._next_poll_at: float | None = None
        self._history: list[str] = []
        self._pending: dict[str, dict[str, Any]] = {}
        self._probe_targets: list[Target] = []
        # snapshot id -> (identity graph, exposure table); built in a worker, kept for
        # the last two snapshots shown (the graph of 50,000 resources is ~100 MB).
        self._graphs: dict[int, tuple[Any, Any]] = {}
        self._graph_building: set[int] = set()
        self.register_theme(DARK)
        self.register_theme(LIGHT)
        self.theme = DARK.name

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.queries.reload(force=True)
        self.header_info = self.queries.header(self.targets)
        self.data_generation += 1
        self.ensure_graph()
        self.switch_mode(self.initial_view)
        self.set_interval(1.0, self._refresh_headers)
        if self.freeze_gc:
            self.call_after_refresh(_freeze_startup_objects)
        if not self.offline:
            self.start_poll()

    def on_unmount(self) -> None:
        self.store.close()

    def header_state(self) -> HeaderState:
        next_in = None
        if self._next_poll_at is not None:
            next_in = max(0.0, self._next_poll_at - time.monotonic())
        return HeaderState(
            info=self.header_info,
            now=self.clock(),
            polling=self.polling,
            progress=self.poll_progress,
            paused=self.paused,
            offline=self.offline,
            next_poll_in=next_in,
            poll_error=self.poll_error,
            db_name=self.db_path.name,
        )

    def _refresh_headers(self) -> None:
        for screen in self.screen_stack:
            for header in screen.query(StatusHeader):
                header.refresh()

    def _sync_screens(self) -> None:
        """Refresh the shown dashboard screen; others refresh when shown again."""
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                screen.sync()
        self._refresh_headers()

    # -- polling -------------------------------------------------------------------------

    def _default_poller(self, store: Store, progress: ProgressCallback) -> PollResult:
        from postureapp.poll import run_poll

        return run_poll(store, self.config, self.targets, progress=progress)

    def start_poll(self) -> bool:
        """Start a poll now unless one is running (or the dashboard is offline)."""
        if self.offline:
            self.notify("Offline: reading the cache only, no polling.", severity="warning")
            return False
        if self.polling:
            self.notify("A poll is already running.")
            return False
        self._cancel_timer()
        self.polling = True
        self.poll_error = ""
        self.poll_progress = (0, len(self.targets))
        self._refresh_headers()
        self._poll_worker()
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll_worker(self) -> None:
        worker = get_current_worker()
        outcome: dict[str, Any] = {}
        lock = threading.Lock()
        done = 0
        total = len(self.targets)

        def progress(event: str, target: Target, run: Any) -> None:
            nonlocal done
            if event == "finished":
                with lock:
                    done += 1
                    count = done
                self.post_message(PollProgressed(count, total, target.label))

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
            self.post_message(PollFinished(outcome["result"]))
        else:
            self.post_message(PollFailed(outcome.get("error", "the poll ended without a result")))

    @on(PollProgressed)
    def _poll_progressed(self, message: PollProgressed) -> None:
        if self.polling:
            self.poll_progress = (message.done, message.total)
            self._refresh_headers()

    @on(PollFinished)
    def _poll_finished(self, message: PollFinished) -> None:
        self.polling = False
        self.poll_progress = None
        self.last_poll = message.result
        self._reload()
        status = message.result.status
        if status is not SnapshotStatus.COMPLETE:
            failed = [
                f"{run.collector}@{run.target}"
                for run in message.result.runs
                if run.status.value != "ok"
            ]
            self.notify(
                f"Poll {status.value}: {', '.join(failed)} did not answer fully.",
                severity="error" if status is SnapshotStatus.FAILED else "warning",
                markup=False,
            )
        self._schedule_next()

    @on(PollFailed)
    def _poll_failed(self, message: PollFailed) -> None:
        self.polling = False
        self.poll_progress = None
        self.poll_error = message.error
        self.notify(f"Poll failed: {message.error}", severity="error", markup=False)
        self._schedule_next()
        self._refresh_headers()

    def _reload(self) -> None:
        changed = self.queries.reload()
        self.header_info = self.queries.header(self.targets)
        if changed:
            self.data_generation += 1
            self.ensure_graph()
        self._sync_screens()

    def _schedule_next(self) -> None:
        self._cancel_timer()
        if self.offline or self.paused:
            return
        self._next_poll_at = time.monotonic() + self.interval
        self._poll_timer = self.set_timer(self.interval, self._poll_timer_fired)

    def _poll_timer_fired(self) -> None:
        self._poll_timer = None
        self._next_poll_at = None
        self.start_poll()

    def _cancel_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._next_poll_at = None

    # -- background reads ------------------------------------------------------------------

    def ensure_trend(self) -> None:
        """Compute the score trend for the current data, once (only the overview shows
        it, so it is not computed until the overview is)."""
        if self._trend_generation != self.data_generation:
            self._trend_generation = self.data_generation
            self._trend_worker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="trend")
    def _trend_worker(self) -> None:
        try:
            with Store(self.db_path) as store:
                points = score_trend(store)
        except Exception:  # the trend is decoration; the score itself is computed apart
            points = []
        self.post_message(TrendComputed(points))

    @on(TrendComputed)
    def _trend_computed(self, message: TrendComputed) -> None:
        points = list(message.points)
        snapshot = self.queries.snapshot
        if points and snapshot is not None and points[-1][0] == snapshot.id:
            points[-1] = (snapshot.id, self.queries.score().value)  # live waivers
        self.trend_points = points
        for screen in self.screen_stack:
            if isinstance(screen, OverviewScreen):
                screen.show_trend()

    def compute_diff(self, from_id: int, to_id: int, label: str) -> None:
        self._diff_worker(from_id, to_id, label)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff")
    def _diff_worker(self, from_id: int, to_id: int, label: str) -> None:
        try:
            with Store(self.db_path) as store:
                diff = store.diff(from_id, to_id)
        except Exception as error:
            self.post_message(DiffComputed(None, f"{type(error).__name__}: {error}", label))
        else:
            self.post_message(DiffComputed(diff, "", label))

    @on(DiffComputed)
    def _diff_computed(self, message: DiffComputed) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, ChangesScreen):
                screen.show_diff(message)

    # -- triage writes ---------------------------------------------------------------------

    def _refuse_write(self) -> bool:
        if self.allow_write:
            return False
        self.notify("Read-only: this dashboard cannot change the cache.", severity="warning")
        return True

    def save_waiver(self, waiver: Waiver) -> None:
        if self._refuse_write():
            return
        self._triage_worker("waiver", waiver, lambda store: store.add_waiver(waiver))

    def save_note(self, fingerprint: str, author: str, text: str) -> None:
        if self._refuse_write():
            return
        self._triage_worker("note", fingerprint, lambda s: s.add_note(fingerprint, author, text))

    def save_attestation(self, attestation: Attestation) -> None:
        if self._refuse_write():
            return
        self._triage_worker(
            "attestation", attestation, lambda store: store.add_attestation(attestation)
        )

    @work(thread=True, exit_on_error=False, group="triage")
    def _triage_worker(self, kind: str, subject: Any, write: Callable[[Store], Any]) -> None:
        # Writes wait on the poll's write lock (busy_timeout) in this thread, not the UI's.
        try:
            with Store(self.db_path) as store:
                write(store)
        except Exception as error:
            self.post_message(TriageSaved(kind, subject, f"{type(error).__name__}: {error}"))
        else:
            self.post_message(TriageSaved(kind, subject))

    @on(TriageSaved)
    def _triage_saved(self, message: TriageSaved) -> None:
        if message.error:
            self.notify(
                f"Could not save the {message.kind}: {message.error}",
                severity="error",
                markup=False,
            )
            return
        if message.kind == "waiver":
            self.queries.apply_waivers()
            self.notify("Waiver saved; the finding is hidden (W shows waived findings).")
        elif message.kind == "note":
            self.notify("Note saved.")
        else:
            self.notify("Attestation recorded.")
        self.data_generation += 1
        self._sync_screens()

    # -- navigation ------------------------------------------------------------------------

    def switch_view(
        self, view: str, *, filter_text: str | None = None, focus_fid: int | None = None
    ) -> None:
        """Show ``view``; optionally set its filter and put the cursor on a finding."""
        if view not in VIEWS:
            self.notify(f"no view {view!r}", severity="error", markup=False)
            return
        request = {"filter_text": filter_text, "focus_fid": focus_fid}
        if self.current_mode == view:
            screen = self.screen
            if isinstance(screen, DashboardScreen) and (filter_text or focus_fid):
                screen.apply_request(**request)
            return
        if filter_text is not None or focus_fid is not None:
            self._pending[view] = request
        if self.current_mode in VIEWS:
            self._history.append(self.current_mode)
            del self._history[:-20]
        self.switch_mode(view)

    def take_request(self, view: str) -> dict[str, Any] | None:
        return self._pending.pop(view, None)

    def jump_to_resource(self, uid: str, fid: int | None = None) -> None:
        """Show the findings of a resource (and one finding of it, with ``fid``)."""
        views = self.queries.views_of_resource(uid)
        if fid is not None:
            row = self.queries.row(fid)
            views = [row["view"]] if row else views
        if not views:
            self.notify(f"No findings on {uid}.", markup=False)
            return
        view = self.current_mode if self.current_mode in views else views[0]
        self.switch_view(view, filter_text=f'uid:"{uid}" status:all', focus_fid=fid)

    def action_switch_view(self, view: str) -> None:
        self.switch_view(view)

    def action_jump(self) -> None:
        def chosen(view: str | None) -> None:
            if view:
                self.switch_view(view)

        self.push_screen(JumpPrompt(), chosen)

    def action_back(self) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen) and screen.handle_back():
            return
        if self._history:
            self.switch_mode(self._history.pop())

    def action_help(self) -> None:
        scopes = getattr(self.screen, "ACTION_SCOPES", ())
        self.push_screen(HelpScreen(for_scopes(scopes)))

    def action_poll_now(self) -> None:
        self.start_poll()

    def action_toggle_pause(self) -> None:
        if self.offline:
            self.notify("Offline: there is no polling to pause.", severity="warning")
            return
        self.paused = not self.paused
        if self.paused:
            self._cancel_timer()
            self.notify("Polling paused (p resumes).")
        else:
            if not self.polling:
                self._schedule_next()
            self.notify("Polling resumed.")
        self._refresh_headers()

    def action_toggle_probe(self) -> None:
        """Add or drop the endpoint probe from the targets of the next polls."""
        if self.offline:
            self.notify("Offline: nothing is polled, so nothing is probed.", severity="warning")
            return
        probes = [target for target in self.targets if target.provider == "probe"]
        if probes:
            # Kept so that turning probes back on restores the same options (the demo's
            # CA bundle and host list, --probe-url entries) rather than plain defaults.
            self._probe_targets = probes
            self.targets = [target for target in self.targets if target.provider != "probe"]
            self.notify("Endpoint probes off from the next poll.")
        else:
            from postureapp.collectors.probe import probe_target

            self.targets = [*self.targets, *(self._probe_targets or [probe_target(self.config)])]
            self.notify(
                "Endpoint probes on from the next poll (r polls now): discovered endpoints "
                "are probed from this machine."
            )
        self.header_info = self.queries.header(self.targets)
        self._refresh_headers()

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT.name if self.theme == DARK.name else DARK.name
