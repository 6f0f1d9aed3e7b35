"""Issue 13 (items 5, 7, 8, 9) and issue 16 (the CLI parts), each case as the tester tried
it, through the installed console script: one line, a documented exit code, nothing
written that should not be, outputs that cannot drive a terminal."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from postureapp.errors import EXIT_COLLECTION, EXIT_IO, EXIT_USAGE
from postureapp.text import UNSAFE
from tests.integration.test_cli import POSTURE, posture
from tests.kube import server_from_fixtures
from tests.kube.estate import fixtures_dir
from tests.terminal import Terminal

# One xdist worker runs this module: the collected cache
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("cli-hygiene")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(result, code: int, fragment: str = "") -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("posture: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Two snapshots of the fixture dump (exit 3 each: the dump lacks some kinds)."""
    path = tmp_path_factory.mktemp("cache") / "cache.db"
    for _ in range(2):
        result = posture("collect", "--from", str(fixtures_dir()), "--db", str(path))
        assert result.returncode == EXIT_COLLECTION, result.stderr
    posture("export", "--db", str(path), check=True)  # settle the WAL
    return path


@pytest.fixture
def db(cache, tmp_path) -> Path:
    copy = tmp_path / "cache.db"
    shutil.copy(cache, copy)
    return copy


# -- item 5: I/O failures ------------------------------------------------------------


def test_export_onto_a_full_disk_exits_4_and_leaves_the_old_file(db, tmp_path):
    """A real full disk: a 64 KiB tmpfs in a private mount namespace (unshare)."""
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$1" && echo previous > "$1/posture.json" && '
        '"$2" export --db "$3" --format json -o "$1/posture.json"; code=$?; '
        'ls -A "$1"; cat "$1/posture.json"; exit $code'
    )
    disk = tmp_path / "disk"
    disk.mkdir()
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", str(disk), POSTURE[0], str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line_error(result, EXIT_IO, "No space left on device")
    assert result.stdout.split() == ["posture.json", "previous"]  # no .part, old file kept


def test_export_to_dev_full_and_stdout_on_a_full_device(db):
    one_line_error(posture("export", "--db", str(db), "-o", "/dev/full"), EXIT_IO, "No space")
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*POSTURE, "export", "--db", str(db), "-o", "-"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    one_line_error(result, EXIT_IO, "cannot write to stdout: No space left on device")


def test_writing_waivers_to_a_missing_folder_exits_4(db):
    result = posture("waivers", "export", "-o", "/nonexistent/w.toml", "--db", str(db))
    one_line_error(result, EXIT_IO, "no directory /nonexistent")


@pytest.mark.parametrize(
    "name, text, fragment",
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "JSON nested 100000 levels deep"),
        ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000, "YAML nested more than 100"),
        ("deep-list.json", '{"kind": "List", "apiVersion": "v1", "items": [' + "[" * 150
         + "]" * 150 + "]}", "JSON nested 152 levels deep"),
        ("laughs.yaml", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "YAML alias at line 2"),
    ],
    ids=["deep-json", "deep-yaml", "deep-items", "yaml-aliases"],
)  # fmt: skip
def test_nested_or_exploding_dumps_are_refused_and_the_cache_untouched(
    db, tmp_path, name, text, fragment
):
    before = _digest(db)
    dump = tmp_path / name
    dump.write_text(text)
    one_line_error(posture("collect", "--from", str(dump), "--db", str(db)), EXIT_USAGE, fragment)
    assert _digest(db) == before


def test_a_huge_dump_is_refused_before_it_is_read(db, tmp_path):
    dump = tmp_path / "huge.json"
    with dump.open("wb") as handle:  # sparse: 300 MiB that takes no disk
        handle.truncate(300 * 1024 * 1024)
    before = _digest(db)
    result = posture("collect", "--from", str(dump), "--db", str(db))
    one_line_error(result, EXIT_USAGE, "300 MiB is more than the 256 MiB")
    assert _digest(db) == before


def _as_a_user(command: list[str]) -> list[str]:
    """Root reads anything; without CAP_DAC_OVERRIDE/READ_SEARCH it meets modes as a user
    does (setpriv, util-linux). A non-root test runner needs nothing."""
    if os.geteuid() != 0:
        return command
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]


@pytest.mark.parametrize("locked", ["file", "folder"])
def test_an_unreadable_default_config_is_one_line(tmp_path, locked):
    config_home = tmp_path / "xdg"
    config = config_home / "posture" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[poll]\ninterval_seconds = 60\n")
    target = config if locked == "file" else config.parent
    target.chmod(0)
    try:
        result = subprocess.run(
            _as_a_user([*POSTURE, "config"]),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "XDG_CONFIG_HOME": str(config_home), "POSTURE_CONFIG": ""},
        )
    finally:
        target.chmod(0o700)
    one_line_error(result, EXIT_USAGE, f"config file {config}: cannot read (Permission denied)")


# -- item 7: a timeout ends the run --------------------------------------------------


def test_a_collector_timeout_ends_the_run_when_it_says_so(tmp_path):
    """The API server stalls every pod list for 10 minutes; the client would wait 60 s,
    three times. With a 2 s collector timeout the command ends in seconds (it took 182 s
    with a 20 s timeout before), the run is failed, and no late result is written."""
    config = tmp_path / "config.toml"
    config.write_text("[poll]\ncollector_timeout_seconds = 2\n")
    db = tmp_path / "cache.db"
    with server_from_fixtures() as server:
        server.delay("pods", 600, times=None)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        began = time.monotonic()
        result = subprocess.run(
            [
                *POSTURE,
                *("collect", "--kubeconfig", str(kubeconfig), "--context", "posture-test"),
                *("--config", str(config), "--db", str(db)),
            ],
            capture_output=True,
            text=True,
            timeout=170,
        )
        took = time.monotonic() - began
    assert result.returncode == EXIT_COLLECTION, result.stderr
    assert "timed out after 2s" in result.stderr and "Traceback" not in result.stderr
    assert took < 50, f"the run said it timed out at 2 s but ended after {took:.0f} s"
    document = json.loads(posture("export", "--db", str(db), check=True).stdout)
    assert document["snapshot"]["status"] == "failed" and document["resources"] == []
    assert len(json.loads(posture("diff", "1", "1", "--format", "json", "--db", str(db),
                                  check=True).stdout)["opened"]) == 0  # fmt: skip


# -- item 8: output hygiene, end to end ---------------------------------------------

HOSTILE_NAMES = [
    "bell\x07nul\x00esc\x1b[2J",
    "osc52\x1b]52;c;cHduZWQ=\x07",
    "\u202eexe.gnp",
    "iso\u2066late\u2069 mark\u200f",
    "lone\rcr",
]


def test_exports_of_hostile_names_cannot_drive_a_terminal(tmp_path):
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": f"u{n}"},
            "spec": {"containers": [{"name": "c", "securityContext": {"privileged": True}}]},
        }
        for n, name in enumerate(HOSTILE_NAMES)
    ]
    dump = tmp_path / "pods.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
    db = str(tmp_path / "cache.db")
    assert posture("collect", "--from", str(dump), "--db", db).returncode == EXIT_COLLECTION
    for fmt, allowed in (("csv", {"\n", "\r"}), ("markdown", {"\n"}), ("html", {"\n"})):
        out = tmp_path / f"out.{fmt}"
        posture("export", "--format", fmt, "-o", str(out), "--db", db, check=True)
        with out.open(encoding="utf-8", newline="") as handle:
            text = handle.read()
        if fmt == "csv":
            text = text.replace("\r\n", "\n")  # the record separator, RFC 4180
        assert set(UNSAFE.findall(text)) <= allowed - {"\r"}, (fmt, set(UNSAFE.findall(text)))
        assert "\\u202eexe.gnp" in text.replace("\\\\", "\\")
    full = json.loads(posture("export", "--db", db, check=True).stdout)
    assert {r["name"] for r in full["resources"] if r["kind"] == "Pod"} == set(HOSTILE_NAMES)


# -- item 9: validation before any work ---------------------------------------------


@pytest.fixture
def aws_home(tmp_path) -> dict[str, str]:
    config = tmp_path / "aws-config"
    config.write_text("[profile prod]\nregion = eu-west-1\n")
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**keep, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


def _run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [*POSTURE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or os.environ,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["snapshot", "--new-only", "1"], EXIT_USAGE, "--new-only needs --fail-on"),
        (["snapshot", "-o", "/nonexistent/x"], EXIT_IO, "no directory /nonexistent"),
        (["snapshot", "--fail-on", "high", "--new-only", "7"], EXIT_USAGE, "no cache at"),
        (["snapshot", "--fail-on", "high", "--new-only", "missing.json"], EXIT_USAGE,
         "baseline missing.json: no such file"),
        (["collect", "--probe-ca-bundle", "NOTPEM"], EXIT_USAGE, "no PEM certificate"),
        (["collect", "--profile", "nope"], EXIT_USAGE, "AWS profile 'nope' not found"),
        (["collect", "--profile", "prod", "--region", "mars-1"], EXIT_USAGE,
         "not an AWS region name: mars-1"),
        (["collect", "--profile", "prod", "--region", "eu-west-9"], EXIT_USAGE,
         "unknown AWS region 'eu-west-9'"),
        (["collect", "--context", "nope"], EXIT_USAGE, "context 'nope' not found"),
        (["tui", "--offline", "--context", "prod"], EXIT_USAGE, "--offline polls nothing"),
    ],
)  # fmt: skip
def test_bad_options_fail_before_anything_is_collected(tmp_path, aws_home, args, code, fragment):
    (tmp_path / "NOTPEM").write_text("not a certificate\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: prod, context: {cluster: c, user: u}}]\ncurrent-context: prod\n"
    )
    db = tmp_path / "cache.db"
    common = ["--from", str(fixtures_dir()), "--kubeconfig", str(kubeconfig), "--db", str(db)]
    if args[0] == "tui":
        common = ["--db", str(db)]
    began = time.monotonic()
    one_line_error(_run([*args, *common], aws_home, cwd=tmp_path), code, fragment)
    assert not db.exists(), "the cache was created: the check came after the work"
    assert time.monotonic() - began < 30


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["export", "--format", "yaml"], "Invalid value for '--format'"),
        (["--bogus"], "No such option '--bogus' (see 'posture --help')"),
        (["collect", "--nope"], "'--nope'. Did you mean '--probe'? (see 'posture collect --help')"),
        (["diff", "--since", "-5h"], "--since '-5h': use a positive whole number"),
        (["diff", "--since", "0d"], "--since '0d'"),
        (["checks", "--view", "bogus"], "Invalid value for '--view'"),
        (["--offline", "export"], "--offline goes with the dashboard"),
        (["waive", "--check", "k8s-pod-privilged", "--reason", "r", "--owner", "o"],
         "did you mean k8s-pod-privileged"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(db, args, fragment):
    one_line_error(_run([*args, "--db", str(db)] if args[0] != "--bogus" else args),
                   EXIT_USAGE, fragment)  # fmt: skip


# -- issue 16 -----------------------------------------------------------------------


def test_a_fingerprint_that_matches_nothing_is_refused(db):
    before = _digest(db)
    for args in (
        ["waive", "deadbeef", "--reason", "r", "--owner", "o"],
        ["note", "deadbeef", "hello"],
    ):
        one_line_error(_run([*args, "--db", str(db)]), EXIT_USAGE, "no finding with fingerprint")
    assert _digest(db) == before
    assert posture("waivers", "list", "--db", str(db), check=True).stdout == "no waivers\n"


def test_diff_since_on_a_younger_cache_uses_the_oldest_snapshot(db):
    result = posture("diff", "--since", "24h", "--db", str(db), check=True)
    assert result.stdout.startswith("snapshot 1 -> 2")
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("posture: no snapshot is 24h old; comparing with the oldest, snapshot 1")


def test_checks_and_attest_work_outside_the_source_tree(tmp_path):
    result = subprocess.run(
        [*POSTURE, "checks", "--view", "endpoints"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert all(line.split()[2] == "endpoints" for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    "command", ["posture tui --offline --db {db}", "posture --offline --db {db}"]
)
def test_the_offline_dashboard_in_a_terminal(db, tmp_path, command):
    """The on-call path: the cache alone, in a real terminal; keys work; ctrl+q ends it."""
    env = {**os.environ, "PATH": f"{Path(POSTURE[0]).parent}{os.pathsep}{os.environ['PATH']}"}
    with Terminal(command.format(db=db), cwd=tmp_path, env=env) as terminal:
        screen = terminal.wait_for("Posture score")
        assert "offline · cache only" in screen and "snapshot #2" in screen
        terminal.send(":")
        terminal.wait_for("view (identities, endpoints")  # the view prompt is open
        terminal.send("endpoints", "Enter")
        assert "ENDPOINTS" in terminal.wait_for("ENDPOINTS")
        terminal.send("C-q")
        assert terminal.exit_code() == 0, terminal.screen()
