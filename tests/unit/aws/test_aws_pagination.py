"""The IAM authorization-details loop, against a fake client that really paginates
(moto ignores MaxItems and answers everything in one page)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from postureapp.collectors.aws import iam
from postureapp.collectors.aws._common import MalformedAnswer, paginate
from postureapp.collectors.aws._context import Context, Options

ACCOUNT = "111122223333"


class FakeIam:
    """get_account_authorization_details over N users and N roles, MaxItems per page."""

    def __init__(self, users: int, roles: int, *, repeat_marker: bool = False) -> None:
        self.entities: list[tuple[str, dict[str, Any]]] = []
        for n in range(users):
            self.entities.append(
                (
                    "UserDetailList",
                    {"UserName": f"u{n}", "Arn": f"arn:aws:iam::{ACCOUNT}:user/u{n}"},
                )
            )
        for n in range(roles):
            self.entities.append(
                (
                    "RoleDetailList",
                    {"RoleName": f"r{n}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/r{n}"},
                )
            )
        self.requests: list[dict[str, Any]] = []
        self.repeat_marker = repeat_marker
        # Error reasons name the IAM action from the client's service model.
        import botocore.session

        real = botocore.session.get_session().create_client(
            "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        self.meta = real.meta

    def get_account_authorization_details(self, **params: Any) -> dict[str, Any]:
        self.requests.append(params)
        size = params.get("MaxItems", 100)
        start = 0 if self.repeat_marker else int(params.get("Marker", "0"))
        chunk = self.entities[start : start + size]
        page: dict[str, Any] = {key: [] for key in iam._AUTH_LIST_KEYS}
        for key, entity in chunk:
            page[key].append(entity)
        end = start + size
        page["IsTruncated"] = end < len(self.entities)
        if page["IsTruncated"]:
            page["Marker"] = str(end)
        return page


class FakeContext(Context):
    def __init__(self, client: Any) -> None:
        super().__init__(
            session=None,
            account=ACCOUNT,
            partition="aws",
            options=Options(),
            default_region="us-east-1",
        )
        self._fake = client

    def client(self, service: str, region: str | None = None) -> Any:
        return self._fake


def test_every_page_is_read_and_merged():
    fake = FakeIam(users=1500, roles=2100)
    ctx = FakeContext(fake)

    resources = iam._authorization(ctx)

    assert len(fake.requests) == math.ceil(3600 / iam._PAGE_SIZE) == 4
    assert [r.get("Marker") for r in fake.requests] == [None, "1000", "2000", "3000"]
    assert all(r["MaxItems"] == 1000 for r in fake.requests)
    assert sum(r.kind == "IAMUser" for r in resources) == 1500
    assert sum(r.kind == "IAMRole" for r in resources) == 2100
    assert len({r.uid for r in resources}) == 3600
    assert ctx.unknown_reasons() == {}


def test_a_repeating_marker_is_malformed_not_endless():
    fake = FakeIam(users=2500, roles=0, repeat_marker=True)
    ctx = FakeContext(fake)

    resources = iam._authorization(ctx)

    assert resources == []
    assert len(fake.requests) == 2
    reasons = ctx.unknown_reasons()
    assert set(reasons) == {(kind, None) for kind in iam.AUTH_KINDS}  # global: no region
    assert reasons[("IAMUser", None)] == (
        "iam:GetAccountAuthorizationDetails: malformed answer (pagination marker Marker repeated)"
    )


def test_is_truncated_false_ends_the_loop_even_with_a_marker():
    calls = []

    def call(**params):
        calls.append(params)
        return {"Items": [1], "IsTruncated": False, "Marker": "next"}

    pages = list(paginate(call, marker_in="Marker", truncated_key="IsTruncated"))

    assert len(pages) == 1 and len(calls) == 1


def test_token_names_can_differ_between_request_and_answer():
    answers = iter([{"NextMarker": "b"}, {"NextMarker": "c"}, {}])
    seen = []

    def call(**params):
        seen.append(params.get("Marker"))
        return next(answers)

    assert len(list(paginate(call, marker_in="Marker", marker_out="NextMarker", Limit=5))) == 3
    assert seen == [None, "b", "c"]


def test_a_page_that_is_not_an_object_is_malformed():
    with pytest.raises(MalformedAnswer):
        list(paginate(lambda **_: ["not", "a", "page"], marker_in="NextToken"))
