"""Every command line README and ``--help`` show, run as written through the installed
``posture`` console script, in bash, from a working folder where it makes sense.

The estate: the demo's Kubernetes API server and moto (started in this process), with
the kube contexts (``prod-eu``, ``prod``, ``staging``) and the AWS profile (``prod``)
the examples name; a cache with 16 snapshots of the offline fixture dump (so ``diff 12
15`` and ``--snapshot 12`` exist) and four waivers; the files the examples read
(``./dumps/``, ``baseline.json``, ``waivers.toml``...). The only substitution is the
elided fingerprint ``3f2a9c0e...``, replaced by a real one. Probes are kept on this
machine by the environment's config (``probe.only_hosts = ["127.0.0.1"]``), never by
changing the example. The dashboard examples run in a real terminal (tmux): the
screen must show the overview, then ``ctrl+q`` must end them with exit 0.

A new example without an entry in EXAMPLES fails tests/unit/test_docs.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.kube.estate import fixtures_dir
from tests.terminal import Terminal

BIN = Path(sys.executable).parent
PLACEHOLDER = re.compile(r"\b3f2a9c[0-9a-f]*\.\.\.")


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str
    cwd: Path
    home: Path


@dataclass(frozen=True)
class Spec:
    codes: tuple[int, ...] = (0,)
    check: Callable[[Ran], None] | None = None
    dashboard: bool = False  # runs in tmux until the overview shows, then ctrl+q
    server: bool = False  # `posture serve`: runs until it answers, then Ctrl+C
    slow: float = 60  # seconds the command may take
    cwd: str = ""  # a folder of the working folder to run in


def _json_file(name: str, schema: str = "postureapp/snapshot/v1"):
    def check(ran: Ran) -> None:
        assert json.loads((ran.cwd / name).read_text())["schema"] == schema

    return check


def _file_starts(name: str, start: str):
    def check(ran: Ran) -> None:
        assert (ran.cwd / name).read_text().startswith(start)

    return check


def _exists(name: str):
    def check(ran: Ran) -> None:
        assert (ran.cwd / name).stat().st_size > 0

    return check


def _sarif(name: str):
    def check(ran: Ran) -> None:
        assert json.loads((ran.cwd / name).read_text())["version"] == "2.1.0"
        assert ran.stderr.startswith("posture: ") and len(ran.stderr.splitlines()) >= 1

    return check


def _csv(text: str) -> None:
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["fingerprint", "check_id", "severity"]


def _stdout_json(predicate: Callable[[object], bool]):
    def check(ran: Ran) -> None:
        assert predicate(json.loads(ran.stdout)), ran.stdout[:500]

    return check


def _stderr_has(*fragments: str):
    def check(ran: Ran) -> None:
        for fragment in fragments:
            assert fragment in ran.stderr, ran.stderr

    return check


def _stdout_has(*fragments: str):
    def check(ran: Ran) -> None:
        for fragment in fragments:
            assert fragment in ran.stdout, ran.stdout[:2000]

    return check


def _waivers(count: int):
    def check(ran: Ran) -> None:
        listing = _posture_in(ran, "waivers list").stdout
        assert len(listing.strip().splitlines()) == count, listing

    return check


def _posture_in(ran: Ran, args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "--norc", "-c", f"posture {args}"],
        cwd=ran.cwd,
        env=_environment(ran.home),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


# Partial (exit 3): moto lacks two AWS APIs (Backup, EKS Pod Identity); the run says so.
LIVE_COLLECT = Spec(codes=(3,), check=_stderr_has("snapshot 17 partial", "aws prod: partial"))

EXAMPLES: dict[str, Spec] = {
    # -- the dashboard ----------------------------------------------------------------
    "posture": Spec(dashboard=True),
    # -- the dashboard in a browser: each must answer 401 without the token ------------
    "posture serve": Spec(server=True),
    "posture serve --db team.db --port 9000": Spec(server=True),
    "posture serve --allow-write": Spec(server=True),
    "posture serve --allow-poll --interval 600": Spec(server=True),
    "posture serve --host 0.0.0.0 --public --token-file ./posture-token": Spec(server=True),
    "posture serve --host 0.0.0.0 --public --token-file token": Spec(server=True),
    "posture serve --db team.db --token-file ./posture-token "
    "--origin https://posture.example.com": Spec(server=True),
    # the README's dump recipe: run where kubectl wrote its files (the fixture dumps)
    "posture collect --from .": Spec(codes=(0, 3), check=_stderr_has("snapshot 17"), cwd="dumps"),
    "posture --offline": Spec(dashboard=True),
    "posture tui --offline": Spec(dashboard=True),
    "posture tui --offline --db ~/oncall/cache.db": Spec(dashboard=True),
    "posture tui --context prod-eu --interval 120": Spec(dashboard=True),
    "posture tui --context prod-eu --profile prod --interval 120": Spec(dashboard=True),
    "posture tui --context prod-eu --probe": Spec(dashboard=True),
    "posture demo": Spec(dashboard=True, slow=120),
    "posture demo --no-probe": Spec(dashboard=True, slow=120),
    "posture demo --db demo.db": Spec(dashboard=True, slow=120, check=_exists("demo.db")),
    "posture demo --headless --format html -o report.html": Spec(
        check=_file_starts("report.html", "<!DOCTYPE html>"), slow=180
    ),
    # -- collecting -----------------------------------------------------------------
    "posture collect --context prod-eu --profile prod --region eu-west-1": LIVE_COLLECT,
    "posture collect --context prod-eu --profile prod --region eu-west-1 --fail-on critical": (
        Spec(codes=(1,), check=_stderr_has("failing: ", " critical"))
    ),
    "posture collect --context prod-eu --probe": Spec(
        check=_stderr_has("snapshot 17 complete", "probe probe: ok")
    ),
    "posture collect --context prod-eu --profile prod --probe": Spec(
        codes=(3,), check=_stderr_has("snapshot 17 partial", "probe probe")
    ),
    "posture collect --from ./dumps/": Spec(
        codes=(3,), check=_stderr_has("snapshot 17 partial", "not in the offline dump")
    ),
    "posture collect --probe-url http://10.0.3.7:8080/ --probe-allow-private": Spec(
        # With no cluster or account named, the environment's are polled too.
        codes=(3,),
        check=_stderr_has("snapshot 17", "probe probe"),
    ),
    "posture snapshot --probe-url https://api.example.com --fail-on critical": Spec(
        codes=(1,), check=_stderr_has("at or above critical")
    ),
    "posture snapshot --context prod --format sarif -o posture.sarif "
    "--fail-on high --new-only last-main.json": Spec(codes=(1,), check=_sarif("posture.sarif")),
    "posture snapshot --context prod --format sarif -o posture.sarif "
    "--fail-on high --new-only main-baseline.json": Spec(codes=(1,), check=_sarif("posture.sarif")),
    # -- exports from the cache (its snapshots are partial: the dump lacks kinds) ----
    "posture export --format json -o posture.json": Spec(check=_json_file("posture.json")),
    "posture export --format html -o posture.html": Spec(
        check=_file_starts("posture.html", "<!DOCTYPE html>")
    ),
    "posture export --format markdown": Spec(check=_stdout_has("## Posture snapshot 16")),
    "posture export --format csv --snapshot 12 -o before.csv": Spec(
        check=lambda ran: _csv((ran.cwd / "before.csv").read_text())
    ),
    "posture export --format csv --snapshot 12 -o -": Spec(check=lambda ran: _csv(ran.stdout)),
    "posture export --format sarif -o posture.sarif --fail-on high --new-only baseline.json": (
        # Nothing new since the baseline, so only the partial snapshot fails the gate.
        Spec(codes=(3,), check=_stderr_has("snapshot 16 is partial", "--allow-partial"))
    ),
    # -- diff -----------------------------------------------------------------------
    "posture diff": Spec(check=_stdout_has("snapshot 15 -> 16", "opened: 0")),
    "posture diff 12 15": Spec(check=_stdout_has("snapshot 12 -> 15")),
    "posture diff --since 24h --format json": Spec(
        # Every snapshot is minutes old: the oldest stands in, and stderr says so.
        check=lambda ran: (
            _stderr_has("comparing with the oldest, snapshot 1")(ran),
            _stdout_json(lambda d: d["from"] == 1 and d["to"] == 16)(ran),
        )
    ),
    # -- the catalog and the configuration -----------------------------------------
    "posture checks": Spec(check=_stdout_has("k8s-pod-privileged", "aws-")),
    "posture checks --format json": Spec(check=_stdout_json(lambda d: len(d) > 90)),
    # The pipelines: posture's part runs here; the checks do what jq and grep would.
    "posture checks --format json | jq '.[].id'": Spec(
        check=_stdout_json(lambda d: all(isinstance(c["id"], str) for c in d))
    ),
    "posture checks | grep path-": Spec(check=_stdout_has("path-exposed-admin")),
    "posture checks --view endpoints": Spec(
        check=lambda ran: _assert_one_view(ran.stdout, "endpoints")
    ),
    "posture config": Spec(check=_stdout_has("probe.only_hosts", '["127.0.0.1"]')),
    "posture config --config ./posture.toml": Spec(
        check=_stdout_has("config file: posture.toml", "60                            posture.toml")
    ),
    # -- a fleet (the examples' moto holds an organisation of two member accounts) ----
    "posture collect --all-contexts": Spec(codes=(0, 3), check=_stderr_has("snapshot 17 ")),
    "posture collect --profile prod --organization --region eu-west-1": Spec(
        codes=(3,), check=_stderr_has("snapshot 17 partial"), slow=240
    ),
    "posture collect --all-contexts --target prod-eu --part ./parts": Spec(
        codes=(0, 3), check=_stderr_has("part published: ", "parts/prod-eu/")
    ),
    "posture collect --profile prod --organization --shard 0/4 --part s3://posture-parts/prod": (
        Spec(
            codes=(0, 3),
            check=_stderr_has("part published: s3://posture-parts/prod/shard-0-of-4/"),
            slow=240,
        )
    ),
    "posture merge ./parts/ --db fleet.db": Spec(
        codes=(0, 3), check=_stderr_has("snapshot 1 ", "merged 1 part(s)")
    ),
    "posture merge ./parts/ --db fleet.db --forget old-cluster": Spec(
        codes=(0, 3), check=_stderr_has("snapshot 1 ", "merged 1 part(s)")
    ),
    # The prefix is shared by the examples: the shard example may have added its part.
    "posture merge s3://posture-parts/prod --db fleet.db": Spec(
        codes=(0, 3), check=_stderr_has("snapshot 1 ", " part(s) (0 superseded")
    ),
    # -- triage ---------------------------------------------------------------------
    'posture waive 3f2a9c0e... --reason "legacy, replaced in Q3" --owner alice '
    "--expires 2030-01-31": Spec(check=_waivers(5)),
    "posture waive --check k8s-svc-loadbalancer --resource 'k8s://prod/ingress-nginx/*' "
    '--reason "the ingress controller is meant to be public" --owner platform': Spec(
        check=_waivers(5)
    ),
    "posture waivers list": Spec(check=_stdout_has("owner=setup")),
    "posture waivers export -o waivers.toml": Spec(
        check=lambda ran: _assert_contains(ran.cwd / "waivers.toml", "owner = ")
    ),
    "posture waivers import waivers.toml --replace": Spec(
        check=_stderr_has("4 waivers imported from waivers.toml")
    ),
    "posture waivers remove 4": Spec(check=_waivers(3)),
    'posture note 3f2a9c0e... "owner paged, fix in INC-4211"': Spec(),
    'posture attest backup-restore-tested --by alice --expires 2030-03-01 --note "restored '
    'orders-db to staging, RUNBOOK-12"': Spec(
        check=_stderr_has("attestation recorded for backup-restore-tested")
    ),
}


def _assert_one_view(text: str, view: str) -> None:
    rows = [line.split() for line in text.strip().splitlines()]
    assert rows and all(row[2] == view for row in rows), text


def _assert_contains(path: Path, text: str) -> None:
    assert text in path.read_text()


# -- the estate ----------------------------------------------------------------------


def _environment(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POSTURE_", "KUBE"))}
    estate = json.loads((home / "estate.json").read_text())
    return {
        **keep,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "KUBECONFIG": str(home / ".kube" / "config"),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": estate["aws_endpoint"],
        "PYTHONWARNINGS": "ignore",
    }


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """The servers, and a prepared home and working folder (copied for each example)."""
    from postureapp.collectors.registry import TargetRequest, resolve_targets
    from postureapp.config import load_config
    from postureapp.demo import DemoEnvironment
    from postureapp.export import build_document, write
    from postureapp.model import Waiver
    from postureapp.poll import run_poll
    from postureapp.store import Store

    base = tmp_path_factory.mktemp("examples")
    home, work = base / "home", base / "work"
    with DemoEnvironment(probe=False) as demo:
        aws = next(target for target in demo.targets if target.provider == "aws")
        kubeconfig = yaml.safe_load((demo.folder / "kubeconfig").read_text())
        (home / ".kube").mkdir(parents=True)
        context = kubeconfig["contexts"][0]["context"]
        kubeconfig["contexts"] = [
            {"name": name, "context": context} for name in ("prod-eu", "prod", "staging")
        ]
        kubeconfig["current-context"] = "prod-eu"
        (home / ".kube" / "config").write_text(yaml.safe_dump(kubeconfig))
        (home / ".aws").mkdir()
        (home / ".aws" / "config").write_text(
            "[default]\nregion = eu-west-1\n\n[profile prod]\nregion = eu-west-1\n"
        )
        (home / ".aws" / "credentials").write_text(
            "[default]\naws_access_key_id = AKIAEXAMPLES00000001\naws_secret_access_key = x\n\n"
            "[prod]\naws_access_key_id = AKIAEXAMPLES00000002\naws_secret_access_key = x\n"
        )
        (home / "estate.json").write_text(json.dumps({"aws_endpoint": aws.options["endpoint_url"]}))
        config_dir = home / ".config" / "posture"
        config_dir.mkdir(parents=True)
        # Probes stay on this machine; every example runs unchanged.
        (config_dir / "config.toml").write_text('[probe]\nonly_hosts = ["127.0.0.1"]\n')

        work.mkdir()
        shutil.copytree(fixtures_dir(), work / "dumps")
        (work / "posture.toml").write_text("[poll]\ninterval_seconds = 60\n")
        cache = home / ".local" / "share" / "posture" / "cache.db"
        cache.parent.mkdir(parents=True)
        config = load_config(config_dir / "config.toml", environ={})
        targets = resolve_targets(TargetRequest(offline_paths=[work / "dumps"]))
        with Store(cache) as store:
            for _ in range(16):
                run_poll(store, config, targets)
            for number in range(4):
                store.add_waiver(
                    Waiver(
                        check_id="k8s-pod-privileged",
                        resource_glob=f"k8s://offline/team-{number}/*",
                        reason="set up for the examples",
                        owner="setup",
                    )
                )
            document = build_document(store, store.snapshot(1))
            (work / "waivers.toml").write_text(store.export_waivers())
        for name in ("baseline.json", "last-main.json", "main-baseline.json"):
            with (work / name).open("w") as out:
                write("json", document, out)
        failing = next(f for f in document["findings"] if f["status"] == "fail")
        (home / "fingerprint").write_text(failing["fingerprint"])
        (home / "oncall").mkdir()
        shutil.copy(cache, home / "oncall" / "cache.db")
        _fleet_estate(aws.options["endpoint_url"], cache, work)
        yield base


def _fleet_estate(endpoint: str, cache: Path, work: Path) -> None:
    """An organisation of two member accounts managed by the profile ``prod``, a bucket
    for parts, and one part (a cache of the offline dump) in ``./parts`` and in S3."""
    import boto3

    session = boto3.Session(
        aws_access_key_id="AKIAEXAMPLES00000002",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    organizations = session.client("organizations", endpoint_url=endpoint)
    organizations.create_organization(FeatureSet="ALL")
    for name in ("payments", "sandbox"):
        organizations.create_account(AccountName=name, Email=f"{name}@example.com")
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="posture-parts")
    part = work / "parts" / "offline" / "20250101T000000000000Z.db"
    part.parent.mkdir(parents=True)
    shutil.copy(cache, part)
    s3.upload_file(str(part), "posture-parts", "prod/offline/20250101T000000000000Z.db")


@pytest.fixture
def workspace(estate, tmp_path) -> tuple[Path, Path]:
    home, work = tmp_path / "home", tmp_path / "work"
    shutil.copytree(estate / "home", home)
    shutil.copytree(estate / "work", work)
    return home, work


# One xdist worker runs every example: the estate (servers, a cache of 16 snapshots) is
# built once, and the servers listen on the ports their examples name, one at a time.
pytestmark = pytest.mark.xdist_group("examples")


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_runs_as_documented(example, workspace):
    home, work = workspace
    spec = EXAMPLES[example]
    line = PLACEHOLDER.sub((home / "fingerprint").read_text(), example)
    if spec.dashboard:
        _run_dashboard(line, home, work, spec)
        return
    if spec.server:
        _run_server(line, home, work, spec)
        return
    command = line.split(" | ")[0]  # a pipeline: posture's part (see the checks)
    result = subprocess.run(
        ["bash", "--norc", "-c", command],
        cwd=work / spec.cwd,
        env=_environment(home),
        capture_output=True,
        text=True,
        timeout=spec.slow,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in spec.codes, (result.returncode, result.stderr[-3000:])
    if spec.check is not None:
        spec.check(Ran(result.returncode, result.stdout, result.stderr, work, home))


def _run_dashboard(line: str, home: Path, work: Path, spec: Spec) -> None:
    with Terminal(line, cwd=work, env=_environment(home)) as terminal:
        screen = terminal.wait_for("Posture score", timeout=spec.slow)
        assert "Traceback" not in screen
        terminal.send("C-q")
        assert terminal.exit_code(timeout=60) == 0, terminal.screen()
    if spec.check is not None:
        spec.check(Ran(0, "", "", work, home))


def _run_server(line: str, home: Path, work: Path, spec: Spec) -> None:
    """Start ``posture serve`` as written, wait until it answers, check that it serves
    nothing without the token (401), then stop it with Ctrl+C (exit 0)."""
    import signal
    import time
    import urllib.error
    import urllib.request

    port = int(re.search(r"--port (\d+)", line).group(1)) if "--port" in line else 8765
    (work / "team.db").write_bytes((home / "oncall" / "cache.db").read_bytes())
    for name in ("token", "posture-token"):
        (work / name).write_text("a-team-token-of-enough-length-0123456789abcdef\n")
        (work / name).chmod(0o600)
    process = subprocess.Popen(
        ["bash", "--norc", "-c", f"exec {line}"],
        cwd=work,
        env=_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + spec.slow
        status = None
        while status is None and time.monotonic() < deadline and process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                status = 200
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                time.sleep(0.2)  # not listening yet: poll the condition again
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert status == 401, status
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert process.returncode in (0, 130), (process.returncode, err[-3000:])
