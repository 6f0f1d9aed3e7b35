"""Messages workers post to the app. Past tense: they report what happened; the app's
handlers decide what to update. Workers never touch widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from postureapp.poll import PollResult
    from postureapp.store import Diff


class PollStarted(Message):
    """A poll began (posted by the app itself, so every screen's header can follow)."""


class PollProgressed(Message):
    """One collector run finished. Bursts merge: only the latest count matters."""

    def __init__(self, done: int, total: int, label: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.label = label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PollProgressed)


class PollFinished(Message):
    """A poll wrote a snapshot (complete, partial or failed: see ``result.status``)."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result


class PollFailed(Message):
    """The poll itself broke (no snapshot was written): the cache, the config..."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TrendComputed(Message):
    def __init__(self, points: list[tuple[int, float | None]]) -> None:
        super().__init__()
        self.points = points


class DiffComputed(Message):
    def __init__(self, diff: Diff | None, error: str = "", label: str = "") -> None:
        super().__init__()
        self.diff = diff
        self.error = error
        self.label = label


class TriageSaved(Message):
    """A waiver, note or attestation was written (or failed to be: ``error``)."""

    def __init__(self, kind: str, subject: Any, error: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.subject = subject
        self.error = error


class GraphBuilt(Message):
    """The identity graph of one snapshot was built (or could not be: ``error``)."""

    def __init__(self, snapshot_id: int, graph: Any, exposure: Any, error: str = "") -> None:
        super().__init__()
        self.snapshot_id = snapshot_id
        self.graph = graph
        self.exposure = exposure
        self.error = error
