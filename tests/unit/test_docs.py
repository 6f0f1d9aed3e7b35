"""README cannot drift from the CLI: every command is documented and has help text."""

from pathlib import Path

import click

from postureapp.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "posture"):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


def test_every_command_is_in_readme_with_help():
    commands = list(_commands(cli))
    assert len(commands) >= 9
    for path, command in commands:
        assert f"`{path.split()[0]} {path.split()[1]}" in README, f"{path} missing from README"
        assert f"{path}" in README, f"no example of {path} in README"
        assert (command.help or "").strip(), f"{path} has no --help text"


def test_every_command_takes_db_and_help():
    for path, command in _commands(cli):
        if isinstance(command, click.Group):
            continue
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--db" in options, f"{path} lacks --db"
        assert command.get_help_option(click.Context(command)) is not None


def test_exit_codes_are_documented():
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert code in README


def test_readme_carries_the_cluster_role_verbatim():
    from postureapp.collectors.kubernetes.permissions import CLUSTER_ROLE_YAML

    assert CLUSTER_ROLE_YAML in README


def test_readme_carries_the_iam_policy_verbatim():
    from postureapp.collectors.aws.permissions import IAM_POLICY_JSON

    assert IAM_POLICY_JSON.strip() in README
