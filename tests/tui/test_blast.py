"""The blast-radius screen and the Identities view's exposure columns, driven with
Pilot on the fixture cache (its payments-admin load balancer leads to a workload whose
service account assumes an admin IAM role)."""

from __future__ import annotations

import pytest
from textual.widgets import Tree

from postureapp.tui.screens.blast import BlastRadius
from postureapp.tui.screens.findings import FindingsScreen
from tests.tui.test_app import SIZE, settle, table_rows, type_text

# One xdist worker runs the module, so the denied demo poll is built once, not per worker.
pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("blast")]

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


# -- the demo estate, collected with a denied read --------------------------------------

DEMO_ACCOUNT = "123456789012"
ADMINS_GROUP = f"arn:aws:iam::{DEMO_ACCOUNT}:group/admins"
BOB = f"arn:aws:iam::{DEMO_ACCOUNT}:user/bob"
DEMO_SA = "k8s://demo-prod/payments/ServiceAccount/payments-api"


@pytest.fixture(scope="module")
def denied_demo(tmp_path_factory):
    """One poll of the demo estate by the real collectors (the Kubernetes API emulator
    and moto's server), with eks:ListPodIdentityAssociations answered 403."""
    from postureapp.collectors.aws.collector import AwsCollector
    from postureapp.collectors.registry import load_collector
    from postureapp.demo import DemoEnvironment
    from postureapp.poll import Poller
    from postureapp.store import Store
    from tests.integration.aws.faults import Fault, session_factory

    path = tmp_path_factory.mktemp("demo") / "posture.db"
    denied = Fault(
        "eks",
        "ListPodIdentityAssociations",
        status=403,
        code="AccessDeniedException",
        message="User: arn:aws:iam::123456789012:user/posture is not authorized to perform: "
        "eks:ListPodIdentityAssociations [bold]on[/bold] resource",
    )
    with DemoEnvironment(probe=False) as demo, Store(path) as store:
        collectors = {
            "kubernetes": load_collector("kubernetes"),
            "aws": AwsCollector(session_factory(denied)),
        }
        Poller(store, collectors).poll(demo.targets)
    assert denied.fired, "the collector never asked for the Pod Identity associations"
    return path


async def open_blast(app, pilot, uid: str) -> list[str]:
    await settle(app, pilot)
    await pilot.press("slash")
    await type_text(pilot, f'uid:"{uid}" status:all')
    await pilot.press("enter")
    await settle(app, pilot)
    assert {row["resource_uid"] for row in table_rows(app.screen)} == {uid}
    await pilot.press("b")
    await settle(app, pilot)
    assert isinstance(app.screen, BlastRadius)
    return tree_lines(app.screen)


def demo_app(path):
    from postureapp.checks import REGISTRY
    from postureapp.tui.app import PostureApp

    return PostureApp(path, registry=REGISTRY, user="tester", initial_view="identities")


async def test_an_iam_group_finding_draws_what_the_group_reaches(denied_demo):
    app = demo_app(denied_demo)
    async with app.run_test(size=SIZE) as pilot:
        lines = await open_blast(app, pilot, ADMINS_GROUP)
        text = "\n".join(lines)
        assert "nothing to draw" not in str(app.screen.query_one("#blast-status").render())
        assert lines[0] == "IAM group admins  — IAMGroup"
        assert "can admin-equivalent (aws)" in text
        assert 'AWS-managed policy "AdministratorAccess" statement #0 allows * on *' in text
        assert "member IAM user bob" in text


async def test_an_iam_user_reaches_through_its_group(denied_demo):
    app = demo_app(denied_demo)
    async with app.run_test(size=SIZE) as pilot:
        text = "\n".join(await open_blast(app, pilot, BOB))
        assert "member-of IAM group admins" in text
        assert 'group "admins" AWS-managed policy "AdministratorAccess"' in text


async def test_a_denied_read_is_drawn_where_the_tree_stops(denied_demo):
    app = demo_app(denied_demo)
    async with app.run_test(size=SIZE) as pilot:
        lines = await open_blast(app, pilot, DEMO_SA)
        (unknown,) = [line for line in lines if line.lstrip().startswith("?")]
        assert unknown.strip().startswith(
            "? may reach an IAM role through EKS Pod Identity: unknown — "
            "EKS Pod Identity associations could not be read"
        )
        assert "EKSPodIdentityAssociation" in unknown and "AccessDeniedException" in unknown
        node = _find(app.screen.query_one(Tree).root, unknown.strip())
        assert any("yellow" in str(span.style) for span in node.label.spans)


def _find(node, plain: str):
    if node.label.plain == plain:
        return node
    for child in node.children:
        if (found := _find(child, plain)) is not None:
            return found
    return None


async def test_an_unknown_reason_is_text_not_markup():
    from postureapp.graph.reach import TreeItem
    from postureapp.tui.screens.blast import item_label

    label = item_label(
        TreeItem("unknown", "may reach [red]x[/red]", None, "unknown — 403 [bold]no[/]\x1b[2J")
    )
    assert label.plain.startswith("? may reach [red]x[/red]: unknown — 403 [bold]no[/]")
    assert "\x1b" not in label.plain
