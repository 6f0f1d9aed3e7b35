"""The AWS regression bank, scored offline and live: every published escalation method
detected, nothing flagged that the labs say must not be, and no verdict left unknown
because a list was empty or a dump was partial."""

from __future__ import annotations

import pytest

from tests.regression.aws.cases import all_banks
from tests.regression.aws.score import Table, misses, render, score_live, score_offline

CATALOGUES = ("Prowler", "Rhino", "iam-vulnerable: 31 paths", "tool tests, must flag")


def _assert_table(table: Table) -> None:
    text = render("bank", table)
    for category, row in table.items():
        assert row.counts["no verdict"] == 0, f"{category}: verdicts missing\n{text}"
        if "must not flag" in category:
            assert row.counts["FP"] == 0, f"{category}: false positives\n{text}"
        if any(name in category for name in CATALOGUES):
            assert row.detection is not None and row.detection >= 0.95, text
        assert row.unknown_ok == row.unknown_expected, f"{category}\n{text}"
    assert misses(table) == [], "\n".join(misses(table))


def test_offline_dumps_score_clean():
    table = score_offline(all_banks())
    expected = ("Prowler", "Rhino", "31 paths", "must not flag", "three-state", "formats")
    for word in expected:
        assert any(word in category for category in table), f"no {word} category"
    _assert_table(table)


@pytest.mark.slow
def test_live_collection_scores_clean():
    _assert_table(score_live(all_banks()))
