"""The headless core never imports Textual: CI jobs and exports stay light, and a
dashboard bug cannot break `posture export`."""

import subprocess
import sys

HEADLESS = [
    "collectors",
    "postureapp.collectors.base",
    "postureapp.collectors.registry",
    "checks",
    "postureapp.engine",
    "postureapp.store",
    "postureapp.export",
    "postureapp.graph",
    "postureapp.poll",
    "postureapp.cli",
]


def test_headless_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
