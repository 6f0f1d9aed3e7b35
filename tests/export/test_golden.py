"""Golden files: every format of a fixed snapshot, byte for byte, so any change to a
format is a reviewable diff. Regenerate with ``UPDATE_GOLDEN=1`` and read the diff."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from postureapp.export import EXTENSIONS, FORMATS
from tests.export.conftest import render
from tests.export.fixtures import build_golden_cache, frozen_document

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_matches_golden_file(fmt, golden_document):
    produced = render(fmt, golden_document).encode("utf-8")
    path = GOLDEN / f"snapshot{EXTENSIONS[fmt]}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(produced)
    assert path.exists(), f"{path.name} missing: run with UPDATE_GOLDEN=1 and review it"
    expected = path.read_bytes()
    if produced != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8").splitlines(),
            produced.decode("utf-8").splitlines(),
            f"golden/{path.name}",
            "produced",
            lineterm="",
        )
        pytest.fail(
            f"{fmt} export changed; if intended, rerun with UPDATE_GOLDEN=1 and review:\n"
            + "\n".join(list(diff)[:60])
        )


def test_every_format_has_a_golden_file():
    assert {p.name for p in GOLDEN.iterdir()} >= {f"snapshot{EXTENSIONS[f]}" for f in FORMATS}


def test_a_rebuilt_cache_exports_the_same_bytes(tmp_path, golden_document):
    """Order comes from the data, not from insertion order or SQLite's whims."""
    store, registry = build_golden_cache(tmp_path / "again.db")
    try:
        again = frozen_document(store, registry)
    finally:
        store.close()
    for fmt in FORMATS:
        assert render(fmt, again) == render(fmt, golden_document), fmt
