"""Fixtures for the dashboard tests: a cache built from the fixture estate, and an app
wired to the same scripted collectors, with a fixed "now"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tui.estate import TARGETS, Fixture, build_cache, clock


@pytest.fixture
def cache(tmp_path) -> tuple[Path, Fixture]:
    path = tmp_path / "cache" / "posture.db"
    fixture = build_cache(path)
    return path, fixture


@pytest.fixture
def make_app(cache) -> Callable:
    from postureapp.tui.app import PostureApp

    path, fixture = cache

    def build(*, polling: bool = False, **kwargs):
        kwargs.setdefault("registry", fixture.registry)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("user", "tester")
        if polling:
            kwargs.setdefault("targets", TARGETS)
            kwargs.setdefault("poller", fixture.poller)
            kwargs.setdefault("interval", 3600)
        return PostureApp(path, **kwargs)

    build.fixture = fixture
    build.path = path
    return build


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio
