"""The app's share of the identity graph: load it per snapshot in a worker, cache it,
feed the Identities view's exposure columns and the blast-radius screen.

The graph and the exposure columns were derived when the snapshot was judged, with the
user's settings, and stored with it; the dashboard decodes them and never rebuilds them.

A mixin of :class:`~postureapp.tui.app.PostureApp` (kept apart so app.py stays about
polling and navigation). The worker opens its own ``Store``; it posts ``GraphBuilt``
and never touches widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from postureapp.store import Store
from postureapp.store.views import DashboardQueries
from postureapp.tui.host import AppMixin
from postureapp.tui.messages import GraphBuilt


class GraphMixin(AppMixin):
    """Needs ``db_path``, ``queries``, ``data_generation`` and ``_sync_screens``."""

    db_path: Path
    queries: DashboardQueries
    data_generation: int
    _graphs: dict[int, tuple[Any, Any]]
    _graph_building: set[int]

    def ensure_graph(self) -> None:
        """Load the shown snapshot's identity graph in a worker unless cached; when it
        is cached, re-apply its exposure columns (a reload empties them)."""
        snapshot = self.queries.snapshot
        if snapshot is None:
            return
        cached = self._graphs.get(snapshot.id)
        if cached is not None:
            self.queries.apply_exposure(snapshot.id, cached[1])
            return
        if snapshot.id in self._graph_building:
            return
        self._graph_building.add(snapshot.id)
        self._graph_worker(snapshot.id)

    def graph_for_shown(self) -> Any:
        """The shown snapshot's graph, or None while it is being built."""
        snapshot = self.queries.snapshot
        if snapshot is None:
            return None
        cached = self._graphs.get(snapshot.id)
        if cached is None:
            self.ensure_graph()
            return None
        return cached[0]

    @work(thread=True, exit_on_error=False, group="graph")
    def _graph_worker(self, snapshot_id: int) -> None:
        from postureapp.graph.codec import decode_graph
        from postureapp.graph.reach import Exposure

        try:
            with Store(self.db_path) as store:
                document = store.derived(snapshot_id, "graph")
                rows = store.derived(snapshot_id, "exposure")
            if document is None or rows is None:
                self.post_message(
                    GraphBuilt(
                        snapshot_id,
                        None,
                        None,
                        "this snapshot was written by an older postureapp that did not keep "
                        "its identity graph; the next poll will",
                    )
                )
                return
            graph = decode_graph(document)
            exposure = {uid: Exposure(*row) for uid, row in rows.items()}
        except Exception as error:  # a broken graph must not take the dashboard down
            self.post_message(
                GraphBuilt(snapshot_id, None, None, f"{type(error).__name__}: {error}")
            )
        else:
            self.post_message(GraphBuilt(snapshot_id, graph, exposure))

    # Named, not @on-decorated: a mixin is not a MessagePump, so decorators here would
    # not be collected; Textual finds ``on_<message>`` methods along the whole MRO.
    def on_graph_built(self, message: GraphBuilt) -> None:
        self._graph_building.discard(message.snapshot_id)
        if message.graph is not None:
            self._graphs[message.snapshot_id] = (message.graph, message.exposure)
            for old in sorted(self._graphs)[:-2]:
                del self._graphs[old]
            if self.queries.apply_exposure(message.snapshot_id, message.exposure):
                self.data_generation += 1
                self._sync_screens()
        shown = self.queries.snapshot
        if shown is None or shown.id != message.snapshot_id:
            return
        from postureapp.tui.screens.blast import BlastRadius  # the graph's own imports

        for screen in self.screen_stack:
            if isinstance(screen, BlastRadius):
                screen.show(message.graph, message.error)

    def show_blast_radius(self, uid: str, title: str = "") -> None:
        """Open the blast-radius tree from one resource."""
        from postureapp.tui.screens.blast import BlastRadius

        self.push_screen(BlastRadius(uid, title))
