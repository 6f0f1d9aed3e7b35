"""The ``posture`` command lines the documentation shows: README's shell blocks and the
"Example(s):" part of every command's ``--help``. Each must run in a test
(tests/integration/test_examples.py); tests/unit/test_docs.py fails on one that does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_FENCES = {"sh", "bash", "shell", "console", ""}


def _command_lines(lines: list[str]) -> Iterator[str]:
    """Lines starting with ``posture``, continuation lines joined, comments dropped."""
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        while line.endswith("\\") and index + 1 < len(lines):
            index += 1
            line = line[:-1].rstrip() + " " + lines[index].strip()
        index += 1
        if line == "posture" or line.startswith("posture "):
            yield re.sub(r"\s+#.*$", "", line).strip()


def readme_examples(text: str | None = None) -> list[str]:
    """Every ``posture`` line inside a shell code block of README."""
    text = README.read_text() if text is None else text
    found: list[str] = []
    block: list[str] | None = None
    language = ""
    for line in text.splitlines():
        if line.startswith("```"):
            if block is None:
                block, language = [], line[3:].strip()
            else:
                if language in SHELL_FENCES:
                    found.extend(_command_lines(block))
                block = None
        elif block is not None:
            block.append(line)
    return found


def _commands(group: click.Group, prefix: str = "posture") -> Iterator[tuple[str, click.Command]]:
    yield prefix, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def help_examples(cli: click.Group) -> dict[str, list[str]]:
    """Command path -> the command lines of its ``--help`` "Example(s):" section."""
    found: dict[str, list[str]] = {}
    for path, command in _commands(cli):
        text = command.help or ""
        match = re.search(r"^\s*Examples?:\s*$", text, re.M)
        if match:
            found[path] = list(_command_lines(text[match.end() :].splitlines()))
    return found


def all_examples(cli: click.Group) -> set[str]:
    examples = set(readme_examples())
    for lines in help_examples(cli).values():
        examples.update(lines)
    return examples
