"""No secret value anywhere: a live collect through the CLI of a cluster whose every
Secret (and every literal env password) is a canary, then every export format. The
canaries must not appear in the cache, any export, or anything the tool printed."""

from __future__ import annotations

import base64

from postureapp.export import FORMATS
from tests.integration.test_cli import posture
from tests.kube import server_from_fixtures
from tests.kube.estate import CANARY_ENV_VALUE, CANARY_SECRET_VALUE

CANARIES = [
    CANARY_SECRET_VALUE,
    base64.b64encode(CANARY_SECRET_VALUE.encode()).decode(),
    CANARY_ENV_VALUE,
]


def test_no_canary_in_cache_exports_or_output(tmp_path):
    db = tmp_path / "cache.db"
    printed = []
    with server_from_fixtures(token="canary-token") as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context="canary")
        env = {"KUBECONFIG": str(kubeconfig), "POSTURE_DB": str(db)}
        result = posture("collect", "--context", "canary", "--allow-partial", env=env)
        assert result.returncode == 0, result.stderr
        printed += [result.stdout, result.stderr]
        assert any(r.path.startswith("/api/v1/secrets") for r in server.requests)
    for fmt in FORMATS:
        out = tmp_path / f"export.{fmt}"
        result = posture("export", "--format", fmt, "-o", str(out), env={"POSTURE_DB": str(db)})
        assert result.returncode == 0, result.stderr
        printed += [result.stdout, result.stderr, out.read_text(encoding="utf-8")]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cache.db*"))
    for canary in CANARIES:
        assert canary.encode() not in stored, canary
        for text in printed:
            assert canary not in text, canary
    # and the collection did see the secrets (as metadata)
    listing = posture("export", env={"POSTURE_DB": str(db)}).stdout
    assert '"kind": "Secret"' in listing or '"kind":"Secret"' in listing
