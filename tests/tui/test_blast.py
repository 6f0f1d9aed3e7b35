"""The blast-radius screen and the Identities view's exposure columns, driven with
Pilot on the fixture cache (its payments-admin load balancer leads to a workload whose
service account assumes an admin IAM role)."""

from __future__ import annotations

import pytest
from textual.widgets import Tree

from postureapp.tui.screens.blast import BlastRadius
from postureapp.tui.screens.findings import FindingsScreen
from tests.tui.test_app import SIZE, settle, table_rows, type_text

pytestmark = pytest.mark.anyio

PAYMENTS_SA = "k8s://prod-eu/payments/ServiceAccount/payments-api"


def tree_lines(screen) -> list[str]:
    tree = screen.query_one(Tree)
    lines = []

    def walk(node, depth):
        lines.append("  " * depth + node.label.plain)
        for child in node.children:
            walk(child, depth + 1)

    walk(tree.root, 0)
    return lines


async def test_identities_view_shows_exposed_and_reach_columns(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = {row["resource_uid"]: row for row in table_rows(app.screen)}
        sa_rows = [row for uid, row in rows.items() if uid == PAYMENTS_SA]
        assert sa_rows and sa_rows[0]["exposed"] == 1
        assert sa_rows[0]["reach"] == "admin(aws)"
        quiet = [row for uid, row in rows.items() if "/monitoring/" in uid]
        assert quiet and all(row["exposed"] == 0 for row in quiet)
        await pilot.press("slash")
        await type_text(pilot, "exposed:yes")
        await pilot.press("enter")
        await settle(app, pilot)
        assert {row["exposed"] for row in table_rows(app.screen)} == {1}


async def test_b_opens_the_blast_radius_tree_with_each_hop(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await type_text(pilot, f'uid:"{PAYMENTS_SA}" status:all')
        await pilot.press("enter")
        await settle(app, pilot)
        assert table_rows(app.screen)
        await pilot.press("b")
        await settle(app, pilot)
        assert isinstance(app.screen, BlastRadius)
        text = "\n".join(tree_lines(app.screen))
        assert "reached from the internet" in text
        assert "endpoint payments/payments-admin" in text
        assert "assumes IAM role payments-api-irsa" in text
        assert "not verified" in text  # the fixture has no EKS cluster: issuer unknown
        assert "can admin-equivalent (aws)" in text
        assert 'AdministratorAccess" statement #0 allows * on *' in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)


async def test_blast_radius_from_the_command_palette(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "blast radius")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BlastRadius)


async def test_hostile_names_in_the_tree_stay_text(make_app):
    from postureapp.graph.reach import TreeItem
    from postureapp.tui.screens.blast import item_label

    label = item_label(TreeItem("workload", "[bold red]x[/]\x1b[2J", "exposes", "[link=x]y"))
    assert "[bold red]x[/]" in label.plain and "\x1b" not in label.plain
    assert "[link=x]y" in label.plain
