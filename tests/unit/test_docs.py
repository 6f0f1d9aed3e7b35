"""README cannot drift from the CLI: every command is documented, has help text and an
example, and every example README or --help shows runs in a test."""

from pathlib import Path

import click

from postureapp.cli import cli
from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, EXIT_IO, EXIT_OK, EXIT_USAGE
from tests.docs_examples import all_examples, help_examples, readme_examples

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
    for code in (EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_COLLECTION, EXIT_IO):
        assert f"| {code} |" in README
        assert f"{code} " in (cli.help or ""), f"exit {code} missing from 'posture --help'"


def test_every_command_shows_an_example_in_its_help():
    examples = help_examples(cli)
    for path, command in _commands(cli):
        if isinstance(command, click.Group):
            continue
        assert examples.get(path), f"'{path} --help' shows no example"


def test_every_documented_example_runs_in_a_test():
    """A new command line in README or in a --help text needs an entry in EXAMPLES of
    tests/integration/test_examples.py, which runs it through the console script."""
    from tests.integration.test_examples import EXAMPLES

    documented = all_examples(cli)
    untested = sorted(documented - set(EXAMPLES))
    assert not untested, f"add these to EXAMPLES in tests/integration/test_examples.py: {untested}"
    stale = sorted(set(EXAMPLES) - documented)
    assert not stale, f"EXAMPLES lists lines no longer documented: {stale}"


def test_the_example_finder_reads_shell_blocks_only():
    text = (
        "```sh\nposture diff   # a comment\nposture export \\\n    --format csv\n```\n"
        "```toml\nposture = 1\n```\n"
        "```\nposture checks\n```\n"
    )
    assert readme_examples(text) == [
        "posture diff",
        "posture export --format csv",
        "posture checks",
    ]


def test_readme_carries_the_cluster_role_verbatim():
    from postureapp.collectors.kubernetes.permissions import CLUSTER_ROLE_YAML

    assert CLUSTER_ROLE_YAML in README


def test_readme_carries_the_iam_policy_verbatim():
    from postureapp.collectors.aws.permissions import IAM_POLICY_JSON

    assert IAM_POLICY_JSON.strip() in README
