"""Fixtures for the AWS collector tests: one moto server for the session, reset before
every test, and an AWS config made of temporary files.

- The server is moto's ``ThreadedMotoServer`` on 127.0.0.1 (a free port), i.e. a real
  HTTP server in a thread of this process. boto3 reaches it through ``endpoint_url``.
- Credentials come from a temporary ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE``
  with named profiles, so ``--profile`` handling is exercised; every other ``AWS_*``
  variable of the developer's shell is removed for the test.
- Seeding happens from the test's thread only: moto's server can answer 500 to
  concurrent writes.
- Back-dating: freezegun patches ``datetime``/``time`` process-wide, and the moto server
  runs in a thread of this same process, so ``with freeze_time(...)`` around a creation
  call back-dates it on the server too (an access key created 400 days ago really has
  ``CreateDate`` 400 days ago). ``test_aws_iam.py`` asserts this rather than trusting it.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from postureapp.collectors.aws import AwsCollector
from postureapp.collectors.base import CollectResult
from postureapp.model import Resource, Target
from tests.facts import assert_conforms

ACCOUNT = "123456789012"
MANAGED_POLICIES = "MOTO_IAM_LOAD_MANAGED_POLICIES"
PROFILE = "posture-test"
NO_CREDENTIALS_PROFILE = "posture-nocreds"
EU_PROFILE = "posture-eu"

# Fast failure in tests; the throttling test needs at least two attempts.
TEST_OPTIONS: dict[str, Any] = {
    "max_attempts": 3,
    "connect_timeout": 2,
    "read_timeout": 10,
    "deadline": 60,
    "credential_report_wait": 5,
}


@pytest.fixture(scope="session")
def aws_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("aws-home")
    config = home / "config"
    credentials = home / "credentials"
    config.write_text(
        f"[profile {PROFILE}]\nregion = us-east-1\n\n"
        f"[profile {NO_CREDENTIALS_PROFILE}]\nregion = us-east-1\n\n"
        f"[profile {EU_PROFILE}]\nregion = eu-west-1\n"
    )
    credentials.write_text(
        f"[{PROFILE}]\naws_access_key_id = AKIAPOSTURETEST00001\n"
        "aws_secret_access_key = posture-test-secret\n\n"
        f"[{EU_PROFILE}]\naws_access_key_id = AKIAPOSTURETEST00002\n"
        "aws_secret_access_key = posture-test-secret\n"
    )
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # Set before moto is imported and builds its IAM backend, so AdministratorAccess and
    # the other AWS-managed policies exist; restored when the session ends.
    original = os.environ.get(MANAGED_POLICIES)
    os.environ[MANAGED_POLICIES] = "true"
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        if original is None:
            os.environ.pop(MANAGED_POLICIES, None)
        else:
            os.environ[MANAGED_POLICIES] = original


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, aws_files: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in aws_files.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no IMDS probing without creds


@dataclass
class Moto:
    """The moto server, reset for this test, plus helpers to seed it and collect from it."""

    endpoint: str

    def session(self, profile: str = PROFILE) -> Any:
        import boto3

        return boto3.Session(profile_name=profile)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.session().client(service, region_name=region, endpoint_url=self.endpoint)

    def target(self, profile: str = PROFILE, **options: Any) -> Target:
        merged = {"endpoint_url": self.endpoint, **TEST_OPTIONS, **options}
        return Target(provider="aws", name=profile, options=merged)

    def collect(
        self, profile: str = PROFILE, *, collector: AwsCollector | None = None, **options: Any
    ) -> CollectResult:
        """Collect, and hold everything collected to its facts type (strict)."""
        result = (collector or AwsCollector()).collect(self.target(profile, **options))
        assert_conforms(result.resources)
        return result


def _reset(endpoint: str, managed_policies: bool) -> Iterator[Moto]:
    # moto reads the variable whenever it (re)builds an IAM backend, during the reset
    # and lazily afterwards, so it keeps the test's value until the test ends.
    os.environ[MANAGED_POLICIES] = "true" if managed_policies else "false"
    try:
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
        yield Moto(endpoint)
    finally:
        os.environ[MANAGED_POLICIES] = "true"


@pytest.fixture
def moto(moto_endpoint: str) -> Iterator[Moto]:
    """A freshly reset server without AWS-managed policies: loading moto's ~1,300 of them
    costs 0.7 s per reset and 1.4 s per authorization-details call, so only the tests
    that attach one (``moto_managed``) pay for it."""
    yield from _reset(moto_endpoint, managed_policies=False)


@pytest.fixture
def moto_managed(moto_endpoint: str) -> Iterator[Moto]:
    """A freshly reset server with AWS-managed policies (AdministratorAccess...)."""
    yield from _reset(moto_endpoint, managed_policies=True)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A local TCP endpoint that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for connection in held:
            connection.close()
        listener.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r.kind == kind]


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r.kind == kind and r.name == name]
    assert len(found) == 1, f"expected one {kind} named {name}, got {[r.name for r in found]}"
    return found[0]


def write_files(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)
