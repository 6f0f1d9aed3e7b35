"""The user's thresholds reach every reader: the checks, the stored identity graph, and
the dashboard's blast-radius tree agree on what is stale.

The bug this guards against (issue 14): the dashboard rebuilt the graph from stored
resources without the user's settings, so with ``unused_days = 30`` an access key last
used 45 days ago failed the check but was "fine" in the blast-radius tree (the default
is 90 days). The graph is now derived once, at judge time, and stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Tree

from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.graph import decode_graph
from postureapp.model import Target, isoformat
from postureapp.poll import Poller
from postureapp.store import Store
from postureapp.tui.screens.blast import BlastRadius
from tests.checks.aws.estate import ACCOUNT, access_key, aws_region, user
from tests.tui.test_app import SIZE, settle

pytestmark = pytest.mark.anyio

USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/deployer"
SETTINGS = {"unused_days": 30, "secret_rotation_days": 365}


def _days_ago(days: float) -> str:
    return isoformat(datetime.now(UTC) - timedelta(days=days)) or ""


class OneUser:
    """An IAM user whose only access key was created 60 and last used 45 days ago."""

    name = "aws"
    provider = "aws"

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(self.name, target.name, scope=ACCOUNT)
        deployer = user("deployer")
        deployer.attrs["create_date"] = _days_ago(400)
        key = access_key("deployer")
        key.attrs["created"] = _days_ago(60)
        key.attrs["last_used_date"] = _days_ago(45)
        resources = [aws_region(), deployer, key]
        return CollectResult(resources, recorder.finish(len(resources)))


def _tree_text(screen: BlastRadius) -> str:
    lines: list[str] = []

    def walk(node) -> None:
        lines.append(node.label.plain)
        for child in node.children:
            walk(child)

    walk(screen.query_one(Tree).root)
    return "\n".join(lines)


async def test_check_graph_and_blast_radius_use_the_same_unused_days(tmp_path):
    path = tmp_path / "cache.db"
    with Store(path) as store:
        result = Poller(store, {"aws": OneUser()}, settings=SETTINGS).poll([Target("aws", "prod")])
        unused = [
            f
            for f in store.findings(result.snapshot_id)
            if f["check_id"] == "aws-iam-access-key-unused"
        ]
        assert [f["status"] for f in unused] == ["fail"]
        assert "more than 30 days ago" in unused[0]["detail"]
        graph = decode_graph(store.derived(result.snapshot_id, "graph"))
        (credential,) = graph.credentials[USER_ARN]
        assert credential.stale is True
        assert "unused for over 30 days" in credential.detail

    from postureapp.tui.app import PostureApp

    app = PostureApp(path, initial_view="identities", user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.show_blast_radius(USER_ARN, "deployer")
        await settle(app, pilot)
        assert isinstance(app.screen, BlastRadius)
        await pilot.wait_for_scheduled_animations()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = _tree_text(app.screen)
        assert "unused for over 30 days" in text, text
