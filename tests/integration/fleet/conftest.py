"""Fixtures for the fleet tests: moto's server in its own process, an organisation in it,
the fault proxy in front, and ``posture`` run as the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.fleet.estate import CREDENTIALS, moto_process

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    with moto_process() as endpoint:
        yield endpoint


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def environment(home: Path, **extra: str) -> dict[str, str]:
    """The machine's environment less its AWS, Kubernetes and posture settings, plus
    the management credentials and a private home."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POSTURE_", "KUBE"))}
    return {
        **keep,
        **CREDENTIALS,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


def posture(args: list[str], env: dict[str, str], timeout: float = 300) -> Ran:
    """``posture ARGS`` through the installed console script."""
    result = subprocess.run(
        [str(BIN / "posture"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return Ran(result.returncode, result.stdout, result.stderr)
