"""Targets and target options of the AWS collector."""

from __future__ import annotations

import pytest

from postureapp.collectors.aws import AwsCollector, parse_options, targets
from postureapp.collectors.aws.permissions import ACTIONS, EXTRA_ACTIONS, IAM_POLICY_JSON
from postureapp.collectors.base import Collector
from postureapp.model import RunStatus, Target


def test_one_target_per_profile():
    made = targets(["prod", "staging", "prod"], ["eu-west-1"], False, "http://127.0.0.1:5000")
    assert [t.name for t in made] == ["prod", "staging"]
    assert all(t.provider == "aws" for t in made)
    assert made[0].options == {
        "regions": ["eu-west-1"],
        "all_regions": False,
        "endpoint_url": "http://127.0.0.1:5000",
    }


def test_no_profile_means_the_default_chain():
    (target,) = targets([], [], True, None)
    assert target.name == "default"
    assert target.options == {"regions": [], "all_regions": True}


def test_options_defaults_and_parsing():
    options = parse_options({"regions": "eu-west-1, us-east-1", "services": "iam,s3"})
    assert options.regions == ("eu-west-1", "us-east-1")
    assert options.services == frozenset({"iam", "s3"})
    assert options.max_workers == 8
    assert options.deadline == 600
    assert parse_options({"deadline": None}).deadline is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"regions": "not a region"}, "not an AWS region name"),
        ({"regions": [1]}, "must be a list of region names"),
        ({"endpoint_url": "localhost:5000"}, "must start with http:// or https://"),
        ({"max_workers": 0}, "'max_workers' must be at least 1"),
    ],
)
def test_bad_options(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_options(raw)


def test_collector_honours_the_protocol():
    collector = AwsCollector()
    assert isinstance(collector, Collector)
    assert (collector.name, collector.provider) == ("aws", "aws")


def test_collect_never_raises_even_when_the_session_factory_does():
    def explode(profile):
        raise RuntimeError("boom")

    result = AwsCollector(explode).collect(Target("aws", "prod", {}))

    assert result.run.status is RunStatus.FAILED
    assert result.run.error == "unexpected error: RuntimeError: boom"
    assert result.resources == []


def test_permissions_policy_is_valid_json_with_the_extras():
    import json

    document = json.loads(IAM_POLICY_JSON)
    assert document["Statement"][0]["Action"] == sorted(EXTRA_ACTIONS)
    assert set(EXTRA_ACTIONS) <= set(ACTIONS)
    assert not [a for a in ACTIONS if "GetSecretValue" in a or "Decrypt" in a]
