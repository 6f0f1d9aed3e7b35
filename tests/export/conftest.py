"""Fixtures for export tests: documents from deterministic caches (see fixtures.py)."""

from __future__ import annotations

import io

import pytest

from postureapp.export import FORMATS
from tests.export.fixtures import build_golden_cache, build_hostile_cache, frozen_document


def render(fmt: str, document: dict) -> str:
    out = io.StringIO(newline="")
    FORMATS[fmt](document, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def golden_cache(tmp_path_factory):
    store, registry = build_golden_cache(tmp_path_factory.mktemp("golden") / "cache.db")
    yield store, registry
    store.close()


@pytest.fixture(scope="module")
def golden_document(golden_cache) -> dict:
    """Snapshot 2 of the golden cache: partial, with changes since snapshot 1."""
    return frozen_document(*golden_cache)


@pytest.fixture(scope="module")
def first_document(golden_cache) -> dict:
    """Snapshot 1 of the golden cache: complete, no previous snapshot."""
    return frozen_document(*golden_cache, snapshot_id=1)


@pytest.fixture(scope="module")
def hostile_document(tmp_path_factory) -> dict:
    store, registry = build_hostile_cache(tmp_path_factory.mktemp("hostile") / "cache.db")
    try:
        return frozen_document(store, registry)
    finally:
        store.close()
