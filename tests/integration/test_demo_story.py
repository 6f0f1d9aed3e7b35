"""The demo's story is a cycle: what it breaks it fixes again, so a demo left running
keeps the same estate (issue 16: it used to add a load balancer every third step)."""

from __future__ import annotations

from postureapp.config import load_config
from postureapp.demo import DemoEnvironment
from postureapp.poll import run_poll
from postureapp.store import Store


def _tracked() -> int:
    from moto.core.model_instances import model_data

    return sum(
        len(model.instances_tracked) for models in model_data.values() for model in models.values()
    )


def _estate(store, snapshot_id):
    resources = {(r["kind"], r["name"]) for r in store.resources(snapshot_id)}
    failing = {
        (f["check_id"], f["resource_uid"])
        for f in store.findings(snapshot_id)
        if f["status"] == "fail"
    }
    return resources, failing


def test_two_turns_of_the_story_end_where_they_started(tmp_path):
    empty = tmp_path / "config.toml"
    empty.write_text("")
    config = load_config(empty, environ={})
    with DemoEnvironment(probe=False) as demo, Store(demo.db_path) as store:
        start = _estate(store, run_poll(store, config, demo.targets).snapshot_id)
        told = []
        turns = []
        seen_public = False
        for turn in range(2):
            for step in range(DemoEnvironment.STORY_STEPS):
                told.append(demo.evolve())
                if step in (0, 3):  # grafana exposed, then taken down again
                    resources, _ = _estate(store, run_poll(store, config, demo.targets).snapshot_id)
                    public = {name for kind, name in resources if "grafana-public" in name}
                    assert bool(public) == (step == 0), (turn, step, public)
                    seen_public |= bool(public)
            turns.append(_estate(store, run_poll(store, config, demo.targets).snapshot_id))
        # moto's server tracks every model object it ever made (copies made to answer
        # a request included); the demo lets go of them, and moto still answers
        assert _tracked() > 0
        demo.trim()
        assert _tracked() == 0
        assert _estate(store, run_poll(store, config, demo.targets).snapshot_id) == turns[1]
    assert seen_public
    for resources, _ in turns:
        assert resources == start[0]  # nothing added for good
    # The one lasting fix is the rotation of legacy-batch's 400-day-old key; from then
    # on every turn ends on the same findings.
    fixed = start[1] - turns[0][1]
    assert fixed and all("legacy-batch" in uid for _, uid in fixed), fixed
    assert turns[0][1] <= start[1]
    assert turns[1][1] == turns[0][1]
    assert len(set(told)) == DemoEnvironment.STORY_STEPS  # every step said what it did
