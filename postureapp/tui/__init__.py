"""The terminal dashboard. Importing this package does not import Textual; only
:func:`run` does, so the CLI can import it at no cost."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from postureapp.config import Config
    from postureapp.model import Target


def run(
    db_path: Path,
    *,
    config: Config,
    targets: list[Target] | None,
    offline: bool,
    interval: int | None,
    expected_unknown: Mapping[str, str] | None = None,
) -> None:
    """Run the dashboard on the cache at ``db_path`` until the user quits.

    Args:
        config: effective configuration (poll interval and collector settings).
        targets: what to poll; ``None`` (or ``offline``) reads the cache only, which
            needs no credentials.
        offline: never poll, even when targets are given.
        interval: seconds between the end of one poll and the start of the next
            (default: ``poll.interval_seconds``).
        expected_unknown: kinds known to be unreadable (kind -> why): a poll partial
            only for them is shown in the header as expected, with no notification.

    Raises:
        StoreError: the cache cannot be opened (raised before the screen is taken).
    """
    from postureapp.store.loading import Loading

    # Read the cache in a thread while Textual is imported and started (issue 14).
    loading = Loading(db_path)
    from postureapp.tui.app import PostureApp

    app = PostureApp(
        db_path,
        config=config,
        targets=targets,
        offline=offline,
        interval=interval,
        expected_unknown=expected_unknown,
        loading=loading,
    )
    app.run()


__all__ = ["run"]
