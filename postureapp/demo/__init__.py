"""``posture demo``: the real collectors, engine and store against a local demo estate.

The project's Kubernetes API test server and moto's server start on free 127.0.0.1
ports in this process, are seeded with the demo estate (``kube_estate``, ``aws_estate``),
and are reached through a temporary kubeconfig and AWS config — the same code paths as a
real cluster and account. Both servers are threads of this process and everything
lives in one temporary directory, so exit, Ctrl-C or a crash leave nothing behind.

With the probe on (the default), local HTTP and HTTPS servers answer behind some of the
cluster's load balancers (``probe_estate``) and the probe target polls them: only
``127.0.0.1`` (``only_hosts``), private addresses allowed, the demo's CA trusted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from postureapp.model import Target, utcnow

KUBE_CONTEXT = "demo-prod"
AWS_PROFILE = "demo"
GRAFANA_LB = "grafana-public"
# Kinds the demo's AWS (moto's server) cannot serve, so every poll is partial for them;
# the dashboard says so in its header instead of popping up a warning on each poll.
EXPECTED_UNKNOWN = {
    "BackupProtectedResource": "moto has no backup:ListProtectedResources",
    "EKSPodIdentityAssociation": "moto has no eks:ListPodIdentityAssociations",
}


class DemoEnvironment:
    """Starts, seeds and stops the demo's servers; ``targets`` point the collectors at
    them. Use as a context manager."""

    def __init__(self, probe: bool = True, db_path: Path | None = None) -> None:
        self.probe = probe
        self._sites: Any = None
        self.folder = Path(tempfile.mkdtemp(prefix="posture-demo-"))
        self._db_path = db_path  # kept after the demo when given (else in the temporary folder)
        self._saved_env: dict[str, str | None] = {}
        self._moto: Any = None
        self._kube: Any = None
        self.account: Any = None
        self.targets: list[Target] = []
        self.changes = 0

    @property
    def db_path(self) -> Path:
        return self._db_path or self.folder / "cache.db"

    def __enter__(self) -> DemoEnvironment:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _setenv(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def _start(self) -> None:
        # Before moto builds its IAM backend, so AdministratorAccess & co. exist.
        self._setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the TUI
        from moto.server import ThreadedMotoServer

        from postureapp.demo.aws_estate import REGION, DemoAccount
        from postureapp.demo.kube_api import KubeAPIServer
        from postureapp.demo.kube_estate import cluster_objects

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto's backends are global to the process: start from a clean account even if
        # something else in this process used moto before (the test suite does).
        httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
        self.account = DemoAccount(endpoint)
        self.account.seed()

        served = None
        if self.probe:
            from postureapp.demo import probe_estate

            self._sites = probe_estate.start(self.folder)
            served = self._sites.served
        self._kube = KubeAPIServer(cluster_objects(utcnow(), served), recorded=1000).start()
        kubeconfig = self._kube.write_kubeconfig(self.folder / "kubeconfig", context=KUBE_CONTEXT)

        config = self.folder / "aws-config"
        config.write_text(f"[profile {AWS_PROFILE}]\nregion = {REGION}\n")
        credentials = self.folder / "aws-credentials"
        credentials.write_text(
            f"[{AWS_PROFILE}]\naws_access_key_id = AKIADEMO0000000000\n"
            "aws_secret_access_key = demo-secret-not-a-real-key\n"
        )
        self._setenv("AWS_CONFIG_FILE", str(config))
        self._setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))

        from postureapp.collectors.aws import targets as aws_targets
        from postureapp.collectors.kubernetes import targets as kube_targets

        self.targets = [
            *kube_targets([KUBE_CONTEXT], str(kubeconfig)),
            *aws_targets([AWS_PROFILE], [REGION], False, endpoint),
        ]
        if self._sites is not None:
            self.targets.append(self.probe_target())

    def probe_target(self) -> Target:
        """The probe, scoped to the demo's own servers: the estate's other names (moto's
        load balancers, the Ingress host) could exist on the internet, and a demo must
        never send requests to strangers."""
        return Target(
            provider="probe",
            name="probe",
            options={
                "urls": [],
                "allow_private": True,
                "only_hosts": [probe_address()],
                "ca_bundle": str(self._sites.ca_bundle),
                "concurrency": 10,
                "timeout": 5,
                "budget": 60,
            },
        )

    def describe(self) -> str:
        """Where the servers listen, for the user (and the tests that check they stop)."""
        host, port = self._moto.get_host_and_port()
        sites = ""
        if self._sites is not None:
            ports = sorted(str(port) for _, port, _ in self._sites.served.values())
            sites = f", endpoints on 127.0.0.1 ports {' '.join(ports)}"
        return f"(kubernetes API {self._kube.url}, AWS http://{host}:{port}{sites})"

    # The story, as a cycle: what it breaks it later fixes and the other way round, so
    # that a demo left running for hours keeps the same estate size (and memory).
    STORY_STEPS = 5

    def evolve(self) -> str:
        """Make the next change of the demo's story; returns what changed."""
        from postureapp.demo.kube_estate import argocd_admin_binding, grafana_goes_public

        step = self.changes % self.STORY_STEPS
        self.changes += 1
        if step == 0:
            self._kube.apply(grafana_goes_public(self._sites.grafana if self._sites else None))
            self.account.load_balancer(GRAFANA_LB, https=False)
            return "a new internet-facing load balancer exposes Grafana"
        if step == 1:
            self.account.rotate_legacy_key()
            return "legacy-batch's access key was rotated"
        if step == 2:
            self._kube.remove(
                "ClusterRoleBinding",
                "argocd-server-admin",
                api_version="rbac.authorization.k8s.io/v1",
            )
            return "argocd-server's cluster-admin binding was removed"
        if step == 3:
            self._kube.remove("Service", "grafana-public", namespace="platform")
            self.account.remove_load_balancer(GRAFANA_LB)
            return "Grafana's public load balancer was taken down"
        self._kube.apply(argocd_admin_binding())
        return "an old Helm chart brought back argocd-server's cluster-admin binding"

    def trim(self) -> None:
        """Let go of what moto's server keeps for its own dashboard: it tracks every
        model object it ever made, copies made to answer a request included (a
        ``ListBackupPlans`` deep-copies its plans, with their backend), so a demo left
        polling for hours grew without end. The demo never shows moto's dashboard nor
        resets moto, the only readers of that list."""
        from moto.core.model_instances import reset_model_data

        reset_model_data()

    def close(self) -> None:
        for server in (self._kube, self._moto, self._sites):
            if server is not None:
                with contextlib.suppress(Exception):  # it may never have started
                    server.stop()
        self._kube = self._moto = self._sites = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


def _raise_on_sigterm() -> Callable[[], None]:
    """SIGTERM unwinds like Ctrl-C, so the servers stop and the folder is removed."""
    return _raise_on(signal.SIGTERM)


def _raise_on(*signums: int) -> _Restore:
    """These signals raise KeyboardInterrupt, as Ctrl-C does; ``restore`` puts the
    previous handlers back. ``restore.interrupted`` stays set once one arrived: an
    exception raised while the main thread runs a callback from C (a finaliser, a GC
    or SQLite callback) is printed and dropped, and a busy machine lands a signal there
    now and then, so the caller checks it between steps."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return _Restore(interrupted, {})

    def handler(signum: int, frame: FrameType | None) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, handler) for signum in signums}
    return _Restore(interrupted, previous)


class _Restore:
    def __init__(self, interrupted: threading.Event, previous: dict[int, Any]) -> None:
        self.interrupted = interrupted
        self._previous = previous

    def __call__(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def check(self) -> None:
        """Raise KeyboardInterrupt now if a signal arrived and its exception was lost."""
        if self.interrupted.is_set():
            raise KeyboardInterrupt


def probe_address() -> str:
    from postureapp.demo.probe_estate import ADDRESS

    return ADDRESS


def run_headless(
    config: Any,
    fmt: str,
    output: str,
    write: Callable[[Path, str, str], None],
    *,
    probe: bool = True,
    db_path: Path | None = None,
) -> None:
    """Collect once from the demo estate and export the snapshot."""
    from postureapp.poll import run_poll
    from postureapp.store import Store

    restore = _raise_on(signal.SIGTERM, signal.SIGINT)
    try:
        with DemoEnvironment(probe=probe, db_path=db_path) as demo:
            print(
                f"demo: estate up in {demo.folder} {demo.describe()}", file=sys.stderr, flush=True
            )
            with Store(demo.db_path) as store:
                result = run_poll(store, config, demo.targets, progress_to=sys.stderr)
            restore.check()  # an interrupt is never lost, wherever it landed
            print(
                f"demo: snapshot {result.snapshot_id} {result.status.value}: "
                f"{result.resources} resources, {result.findings} findings",
                file=sys.stderr,
            )
            write(demo.db_path, fmt, output)
    finally:
        restore()


def run_dashboard(
    config: Any,
    interval: int,
    change_every: int = 3,
    *,
    probe: bool = True,
    db_path: Path | None = None,
) -> None:
    """Open the dashboard on the demo estate; the story moves on every few polls."""
    from postureapp.tui import run

    restore = _raise_on_sigterm()
    stop = threading.Event()
    try:
        with DemoEnvironment(probe=probe, db_path=db_path) as demo:

            def evolve_now_and_then() -> None:
                while not stop.wait(interval * change_every):
                    try:
                        demo.evolve()
                        demo.trim()
                    except Exception:  # the demo's story must never crash the dashboard
                        logging.getLogger(__name__).exception("demo change failed")

            threading.Thread(target=evolve_now_and_then, name="demo-story", daemon=True).start()
            run(
                demo.db_path,
                config=config,
                targets=demo.targets,
                offline=False,
                interval=interval,
                expected_unknown=EXPECTED_UNKNOWN,
            )
    finally:
        stop.set()
        restore()
