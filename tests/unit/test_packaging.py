"""What the wheel installs: everything under ``postureapp``, nothing else at the top.

``checks/`` and ``collectors/`` sit at the repository's top level but install as
``postureapp.checks`` and ``postureapp.collectors`` (pyproject's package-dir mapping), so
no generic name such as ``checks`` lands in site-packages; test helpers stay out of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {
    "postureapp": "postureapp",
    "postureapp.checks": "checks",
    "postureapp.collectors": "collectors",
}


def _packages_on_disk() -> set[str]:
    found = set()
    for dotted, folder in MAPPED.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base).parts
            if "__pycache__" in relative:
                continue
            found.add(".".join((dotted, *relative)))
    return found


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"] == MAPPED
    # Data-only folders (the JSON schema) are listed too; code folders must all be.
    assert _packages_on_disk() <= listed, sorted(_packages_on_disk() - listed)
    for name in listed:
        prefix = max((p for p in MAPPED if name == p or name.startswith(p + ".")), key=len)
        folder = ROOT / MAPPED[prefix] / Path(*name[len(prefix) :].split(".")[1:])
        assert folder.is_dir(), f"{name} is listed but {folder} does not exist"


@pytest.mark.slow
def test_wheel_installs_only_the_postureapp_package(tmp_path):
    # Build from a copy: setuptools leaves build/ and *.egg-info beside the sources.
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "__pycache__", "tests", "screenshots"
    )
    shutil.copytree(ROOT, source, ignore=skip)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path)]
    subprocess.run([*command, str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("postureapp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"postureapp", next(t for t in top if t.endswith(".dist-info"))}
    assert "postureapp/py.typed" in names
    assert "postureapp/checks/registry.py" in names
    assert "postureapp/collectors/kubernetes/collector.py" in names
    assert "postureapp/export/schema/snapshot-v1.schema.json" in names
    assert "postureapp/tui/posture.tcss" in names
    assert "postureapp/serve/static/boot.js" in names
    assert "postureapp/serve/templates/index.html" in names
    assert not [name for name in names if "/testing/" in name or name.startswith("tests/")]
