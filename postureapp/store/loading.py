"""The dashboard's cache read in a thread while the dashboard starts (issue 14).

:class:`Loading` is started by ``postureapp.tui.run`` before Textual is imported: while
Python imports and starts the dashboard, SQLite reads (its statements release the GIL).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from postureapp.model import utcnow
from postureapp.store.views import DashboardQueries


class Loading:
    """A :class:`DashboardQueries` on a Store of its own, previewed then reloaded in a
    thread started before the dashboard is (while Python imports Textual, SQLite reads:
    its statements release the GIL). The dashboard takes the preview's counts for its
    first frame (:meth:`counts`), then the whole object (:meth:`result`); from then on it
    is used from the dashboard's thread only."""

    def __init__(self, path: Path | str, clock: Callable[[], datetime] = utcnow) -> None:
        self._previewed = threading.Event()
        self._done = threading.Event()
        self._queries: DashboardQueries | None = None
        self._preview: tuple[Any, ...] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(Path(path), clock), name="posture-rows", daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, clock: Callable[[], datetime]) -> None:
        from postureapp.store import Store

        store = None
        try:
            if not path.exists():  # never create a cache: the dashboard says what to do
                raise FileNotFoundError(path)
            store = Store(path)
            queries = DashboardQueries(store, clock=clock)
            queries.preview()
            self._preview = (
                queries.snapshot,
                queries.previous,
                list(queries._counts),
                dict(queries._changes),
                list(queries._aws_scopes),
            )
            self._previewed.set()
            _yield_cpu()  # the first frame needs the CPU more than this copy does
            queries.reload(force=True)
            self._queries = queries
        except BaseException as error:  # the dashboard reads the cache itself instead
            self._error = error
            if store is not None:
                store.close()
        finally:
            self._previewed.set()
            self._done.set()

    def counts(self, timeout: float | None = None) -> tuple[Any, ...] | None:
        """What :meth:`DashboardQueries.take_preview` takes, waiting for it; None if
        it failed."""
        self._previewed.wait(timeout)
        return self._preview

    def result(self, timeout: float | None = None) -> DashboardQueries | None:
        """The reloaded queries (their ``store`` is the caller's to close), waiting for
        them; None if loading failed."""
        self._done.wait(timeout)
        return self._queries

    def discard(self) -> None:
        """Close what was loaded (the dashboard did not take it)."""
        self._done.wait()
        if self._queries is not None:
            self._queries.store.close()
            self._queries = None


def _yield_cpu(niceness: int = 10) -> None:
    """Lower this thread's CPU priority (Linux: a thread has its own nice value), so
    that on a busy machine the dashboard's own start-up goes first; on an idle one
    nothing changes. Best effort: elsewhere it does nothing."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere a thread id is not a process id: it could name another process
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
