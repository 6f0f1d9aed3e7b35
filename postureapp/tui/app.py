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
import importlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.theme import Theme
from textual.timer import Timer

from postureapp.config import SETTINGS, Config
from postureapp.model import Attestation, Target, Waiver, utcnow
from postureapp.store import Store
from postureapp.store.loading import Loading
from postureapp.store.views import DashboardQueries, HeaderInfo, score_trend
from postureapp.tui.actions import VIEWS, bindings
from postureapp.tui.commands import ActionCommands, ContextCommands
from postureapp.tui.graphs import GraphMixin
from postureapp.tui.keys import KeyRouter
from postureapp.tui.messages import DiffComputed, TrendComputed, TriageSaved
from postureapp.tui.navigation import NavigationMixin
from postureapp.tui.polling import Poller, PollingMixin
from postureapp.tui.screens.base import DashboardScreen
from postureapp.tui.screens.overview import OverviewScreen
from postureapp.tui.widgets.header import HeaderState, StatusHeader

if TYPE_CHECKING:
    from postureapp.poll import PollResult
    from postureapp.tui.host import Dashboard

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


def _screen(module: str, name: str, *args: Any) -> Callable[[], Any]:
    """A mode's screen, its module imported when the mode is first shown: start-up
    imports only the first view's screen."""

    def make() -> Any:
        screen_class = getattr(importlib.import_module(f"postureapp.tui.screens.{module}"), name)
        return screen_class(*args)

    return make


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


class PostureApp(GraphMixin, PollingMixin, NavigationMixin, KeyRouter, App[None]):
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
        expected_unknown: kinds known to be unreadable here (kind -> why; the demo's
            moto lacks a few APIs): a poll partial only for them says so in the
            header, and pops up nothing.
        freeze_gc: after start-up, move every object alive to CPython's permanent
            generation (``gc.freeze``), so a full collection no longer walks the ~60,000
            objects Textual and the app start with; it was a 40-70 ms pause every few
            seconds of scrolling. Left off in tests, where apps come and go.
        allow_write: waive, note and attest are offered; off for a dashboard served to
            a browser without ``--allow-write`` (those actions are hidden and refused).
        loading: the cache already being read in a thread (:class:`Loading`, started
            before Textual was imported); the app takes its preview and its rows.
    """

    CSS_PATH = Path(__file__).with_name("posture.tcss")  # absolute: subclasses live elsewhere
    TITLE = "posture"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS: ClassVar[set[Any]] = {ActionCommands, ContextCommands}
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen,
        "identities": _screen("findings", "FindingsScreen", "identities"),
        "endpoints": _screen("findings", "FindingsScreen", "endpoints"),
        "secrets": _screen("findings", "FindingsScreen", "secrets"),
        "governance": _screen("governance", "GovernanceScreen"),
        "changes": _screen("changes", "ChangesScreen"),
        "fleet": _screen("fleet", "FleetScreen"),
        "resources": _screen("resources", "ResourcesScreen"),
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
        expected_unknown: Mapping[str, str] | None = None,
        allow_write: bool = True,
        loading: Loading | None = None,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.config = config or default_config()
        self.targets = list(targets or [])
        self.offline = offline or targets is None or not self.targets
        self.interval = interval or self.config.get("poll.interval_seconds")
        self.poller = poller or self._default_poller
        self._catalog = registry
        self.clock = clock or utcnow
        self.user = _current_user() if user is None else user
        if initial_view not in VIEWS:
            raise ValueError(f"unknown view {initial_view!r}")
        self.initial_view = initial_view
        self.freeze_gc = freeze_gc
        self.expected_unknown = dict(expected_unknown or {})
        # failing runs already notified once this session (the header shows them all)
        self._announced: set[tuple[str, ...]] = set()
        self.allow_write = allow_write
        # Opened here, in the thread that runs the app, and only used from it.
        self.store = Store(self.db_path)
        self.queries = DashboardQueries(self.store, clock=self.clock)
        self._loading = loading
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

    @property
    def registry(self) -> Any:
        """The check and control catalog, imported when a screen first needs it (the
        shipped catalog imports every check module: not needed for a first frame)."""
        if self._catalog is None:
            import postureapp.checks  # noqa: F401  (registers the shipped catalog)
            from postureapp.checks.registry import REGISTRY

            self._catalog = REGISTRY
        return self._catalog

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        # The overview's first frame needs counts, not rows: it is painted from a preview
        # (one scan) and the rows table, most of a second on 100,000 findings, is built
        # right after, while keys typed meanwhile wait (issue 14). A finding table needs
        # its rows before its first frame.
        preview = self.initial_view == "overview" and self.queries.scope is None
        if preview:
            self._preview()
            self.header_info = self.queries.header(self.targets)
            self.data_generation += 1
        else:
            self._finish_loading(release=False)
        self.hold_keys()  # keys typed while the first view comes up wait for it
        self.switch_mode(self.initial_view)
        self.set_interval(1.0, self._refresh_headers)
        if preview:
            self.call_after_refresh(self._finish_loading)
        if self.freeze_gc:
            self.call_after_refresh(_freeze_startup_objects)
        if not self.offline:
            self.start_poll()

    def _preview(self) -> None:
        loaded = self._loading.counts() if self._loading is not None else None
        if loaded is None:
            self.queries.preview()
        else:
            self.queries.take_preview(*loaded)

    def _finish_loading(self, release: bool = True) -> None:
        """After the first frame: the rows table the preview skipped (built by the
        loading thread, else here), then the keys typed meanwhile."""
        loading, self._loading = self._loading, None
        if not self.queries.ready:  # (a poll that finished first has built it)
            loaded = loading.result() if loading is not None else None
            if loaded is not None and loaded.clock is self.clock and self.queries.scope is None:
                self.store.close()
                self.store, self.queries = loaded.store, loaded
                self.queries.reload()  # nothing to do unless a snapshot was written since
            else:
                if loaded is not None:
                    loading.discard()  # type: ignore[union-attr]
                self.queries.reload(force=True)
            self.header_info = self.queries.header(self.targets)
            self.data_generation += 1
            self.ensure_graph()
            if release:
                self._sync_screens()
        elif loading is not None:
            loading.discard()
        if release:
            self.release_keys()

    def release_keys(self) -> None:
        if self.queries.ready:  # else ``_finish_loading`` releases them
            super().release_keys()

    def on_unmount(self) -> None:
        self.store.close()

    def header_state(self) -> HeaderState:
        return HeaderState(
            info=self.header_info,
            now=self.clock(),
            polling=self.polling,
            progress=self.poll_progress,
            paused=self.paused,
            offline=self.offline,
            next_poll_in=self.next_poll_in(),
            poll_error=self.poll_error,
            db_name=self.db_path.name,
            probing=None if self.offline else self.probing,
            context=self.queries.scope,
            expected=self.expected_unknown,
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

    def _reload(self) -> None:
        changed = self.queries.reload()
        self.header_info = self.queries.header(self.targets)
        if changed:
            self.data_generation += 1
            self.ensure_graph()
        self._sync_screens()

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
        # The trend is of every context; its last point takes the live waivers only
        # when all contexts are shown (a scoped score is not a point of that line).
        if (
            points
            and snapshot is not None
            and points[-1][0] == snapshot.id
            and not self.queries.scope
        ):
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
        from postureapp.tui.screens.changes import ChangesScreen

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

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT.name if self.theme == DARK.name else DARK.name


if TYPE_CHECKING:
    # Screens reach the app through the Dashboard protocol (importing PostureApp there
    # would close an import circle); mypy fails here if the app stops satisfying it.
    def _is_a_dashboard(app: PostureApp) -> Dashboard:
        return app
