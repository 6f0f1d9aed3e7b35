"""The header: what is watched, how fresh the cache is, and what polling is doing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from postureapp.model import CollectorRun, RunStatus, SnapshotStatus
from postureapp.store.views import HeaderInfo
from postureapp.tui import text as fmt


@dataclass
class HeaderState:
    """Everything the header shows; the app builds it, the header only renders it."""

    info: HeaderInfo | None
    now: datetime
    polling: bool = False
    progress: tuple[int, int] | None = None
    paused: bool = False
    offline: bool = False
    next_poll_in: float | None = None
    poll_error: str = ""
    db_name: str = ""
    notes: list[str] = field(default_factory=list)
    probing: bool | None = None  # None: nothing is polled (offline)
    context: str | None = None  # the context shown; None: all
    expected: Mapping[str, str] = field(default_factory=dict)  # unreadable kinds -> why


class StatusHeader(Widget):
    """Three lines: context, targets, and poll, pause and probe state; the snapshot and
    whether it is partial; the collector runs."""

    DEFAULT_CSS = """
    StatusHeader { height: 3; background: $panel; padding: 0 1; }
    """

    def render(self) -> Group:
        state: HeaderState = self.app.header_state()  # type: ignore[attr-defined]
        first = Table.grid(expand=True, padding=(0, 1))
        first.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        first.add_column(justify="right", no_wrap=True)
        first.add_row(self._targets(state), self._poll(state))
        lines = [self._snapshot(state), self._runs(state)]
        for line in lines:  # the full width each, cut with an ellipsis
            line.no_wrap = True
            line.overflow = "ellipsis"
        return Group(first, *lines)

    def _targets(self, state: HeaderState) -> Text:
        line = Text.assemble(("posture", "bold"), " ")
        if state.context:
            line.append(" ctx ", "bold black on #F5A623")
            line.append_text(fmt.safe(f" {state.context} ", "bold"))
            line.append("(:ctx all) ", "dim")
        else:
            line.append("ctx all ", "dim")
        info = state.info
        parts: list[Text] = []
        if info is not None:
            if info.kube_contexts:
                parts.append(Text("kube ", "dim") + fmt.safe(", ".join(info.kube_contexts)))
            if info.aws_scopes:
                parts.append(Text("aws ", "dim") + fmt.safe(", ".join(info.aws_scopes)))
            if info.other_targets:
                parts.append(fmt.safe(", ".join(info.other_targets)))
        if not parts:
            parts.append(Text("no targets", "dim"))
        return line + Text(" · ", "dim").join(parts)

    def _poll(self, state: HeaderState) -> Text:
        if state.offline:
            return Text("offline · cache only", "bold cyan")
        parts: list[Text] = []
        if state.polling:
            label = "⟳ polling"
            if state.progress:
                label += f" {state.progress[0]}/{state.progress[1]}"
            parts.append(Text(label + "…", "bold yellow"))
        elif state.poll_error:
            parts.append(Text("poll failed: ", "bold red") + fmt.safe(state.poll_error[:40]))
        if state.paused:
            parts.append(Text("⏸ paused (p)", "bold yellow"))
        elif not state.polling and state.next_poll_in is not None:
            parts.append(Text(f"next poll in {fmt.duration(state.next_poll_in)}", "dim"))
        if state.probing is not None:
            parts.append(Text("probe on", "bold #F5A623") if state.probing else Text("probe off"))
        return Text(" · ", "dim").join(parts)

    def _snapshot(self, state: HeaderState) -> Text:
        snapshot = state.info.snapshot if state.info else None
        if snapshot is None:
            return Text("no snapshot in the cache yet", "italic dim")
        moment = snapshot.finished_at or snapshot.started_at
        line = Text.assemble(
            (f"snapshot #{snapshot.id}", "bold"),
            f" {fmt.short_time(moment)} UTC ",
            (f"({fmt.age(moment, state.now)} ago)", "dim"),
            f" · {snapshot.resource_count:,} resources · {snapshot.finding_count:,} findings",
        )
        if snapshot.status is SnapshotStatus.PARTIAL:
            line.append("  ")
            if all(_expected(run, state) for run in _troubled(snapshot.runs)):
                line.append(" PARTIAL ", "black on #B8A24A")
                line.append(" expected: ", "dim")
                line.append_text(fmt.safe(", ".join(sorted(set(state.expected.values()))), "dim"))
            else:
                line.append(" PARTIAL ", "bold black on yellow")
        elif snapshot.status is SnapshotStatus.FAILED:
            line.append("  ")
            line.append(" FAILED ", "bold white on red")
        return line

    def _runs(self, state: HeaderState) -> Text:
        info = state.info
        if info is None or info.snapshot is None or not info.snapshot.runs:
            return Text("no collector runs recorded", "dim")
        parts = []
        for run in info.snapshot.runs:
            part = fmt.safe(f"{run.collector}@{run.target} ")
            last_ok = info.last_ok.get((run.collector, run.target))
            if run.status is RunStatus.OK:
                part.append("✓ ok", "green")
                part.append(f" {fmt.age(last_ok, state.now)} ago", "dim")
            elif _expected(run, state):
                part.append("◐ partial", "yellow")
                kinds = f"{len(run.unknown)} kind{'s' if len(run.unknown) != 1 else ''}"
                part.append(f" ({kinds} unreadable here, as expected)", "dim")
            else:
                mark = "✗ failed" if run.status is RunStatus.FAILED else "◐ partial"
                part.append(mark, fmt.STATUS_STYLES[run.status.value])
                ok = f"last ok {fmt.age(last_ok, state.now)} ago" if last_ok else "never ok"
                part.append(f" ({ok})", "dim")
                if run.error:
                    part.append(" ")
                    part.append_text(fmt.safe(run.error[:80], "red"))
            parts.append(part)
        return Text(" · ", "dim").join(parts)


def _troubled(runs: list[CollectorRun]) -> list[CollectorRun]:
    return [run for run in runs if run.status is not RunStatus.OK]


def expected_partial(run: CollectorRun, expected: Mapping[str, str]) -> bool:
    """A partial run whose unread kinds were all announced as expected."""
    return (
        run.status is RunStatus.PARTIAL
        and bool(run.unknown)
        and all(kind in expected for kind in run.unknown)
    )


def _expected(run: CollectorRun, state: HeaderState) -> bool:
    return expected_partial(run, state.expected)
