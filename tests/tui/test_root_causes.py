"""Root causes in the dashboard, driven with Pilot on a cache the CLI collected from the
fixture cluster: the overview ranks causes, a finding view folds by cause, enter expands.

The fixture's ClusterRoleBinding ``ci-deployer-admin`` (cluster-admin) fails seven RBAC
checks: seven rows before, one "affects 7" row now.
"""

from __future__ import annotations

import pytest

from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.overview import OverviewScreen
from tests.integration.test_root_causes_cli import collect_fixture_cluster
from tests.tui.test_app import screen_text, settle, table_rows

pytestmark = pytest.mark.anyio
SIZE = (160, 50)
BINDING = "k8s://fx/_/ClusterRoleBinding/ci-deployer-admin"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    return collect_fixture_cluster(tmp_path_factory.mktemp("tui-rootcauses"))


async def move_to(pilot, table, predicate) -> dict:
    rows = [table.source.row(index) for index in range(table.row_count)]
    index = next(i for i, row in enumerate(rows) if predicate(row))
    await pilot.press("home")
    for _ in range(index):
        await pilot.press("down")
    assert table.current_row is rows[index] or table.current_row == rows[index]
    return rows[index]


async def test_overview_ranks_causes_and_enter_lists_a_cause(collected):
    from postureapp.tui.app import PostureApp

    app = PostureApp(collected, user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, OverviewScreen)
        risks = table_rows(app.screen, "#risks")
        on_binding = [row for row in risks if row["resource_uid"] == BINDING]
        assert len(on_binding) == 1  # one row, not seven
        assert on_binding[0]["affects"] == 7
        assert "ClusterRoleBinding ci-deployer-admin" in on_binding[0]["cause_label"]
        assert "affects 7" in screen_text(app)
        causes = [row["cause"] for row in risks if row["cause"]]
        assert len(causes) == len(set(causes))  # a cause is ranked once
        table = app.screen.query_one("#risks")
        await move_to(pilot, table, lambda row: row["resource_uid"] == BINDING)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)
        assert app.screen.filter_text == f"cause:{on_binding[0]['cause']}"
        rows = table_rows(app.screen)
        assert len(rows) == 7 and {row["resource_uid"] for row in rows} == {BINDING}
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_z_folds_a_view_by_cause_and_enter_expands(collected):
    from postureapp.tui.app import PostureApp

    app = PostureApp(collected, user="tester", initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        unfolded = table_rows(app.screen)
        assert sum(row["resource_uid"] == BINDING for row in unfolded) == 7
        await pilot.press("z")
        await settle(app, pilot)
        folded = table_rows(app.screen)
        assert len(folded) < len(unfolded)
        (cause_row,) = [row for row in folded if row["resource_uid"] == BINDING]
        assert cause_row["affects"] == 7
        assert "affects 7" in screen_text(app) and "folded by root cause" in screen_text(app)
        # every finding is still accounted for: the folded rows stand for them all
        assert sum(row["affects"] for row in folded) == len(unfolded)
        await move_to(pilot, app.screen.table, lambda row: row["resource_uid"] == BINDING)
        await pilot.press("enter")
        await settle(app, pilot)
        expanded = table_rows(app.screen)
        assert app.screen.filter_text == f"cause:{cause_row['cause']}"
        assert len(expanded) == 7 and {row["resource_uid"] for row in expanded} == {BINDING}
        assert not app.screen.fold
