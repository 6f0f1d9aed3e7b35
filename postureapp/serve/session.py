"""One browser session's dashboard: ``python -m postureapp.serve.session``.

``posture serve`` starts one of these per WebSocket, with Textual's web driver, and
passes everything on the command line (no shell in between). It is the same
:class:`~postureapp.tui.app.PostureApp` as ``posture tui``; by default it reads the
cache only (no polling) and cannot write (no waive, note or attest).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def configured_targets(config: Any) -> list[Any]:
    """The targets the configuration names (else the environment's kube context and AWS
    credentials), as `posture tui` with no target flags would poll: the fleet settings
    (every kube context, an AWS organisation) included."""
    from postureapp.collectors.registry import (
        TargetRequest,
        organization_options,
        resolve_targets,
    )

    return resolve_targets(
        TargetRequest(
            contexts=config.get("targets.kube_contexts"),
            kubeconfig=next(iter(config.get("targets.kubeconfig")), None),
            profiles=config.get("targets.aws_profiles"),
            regions=config.get("targets.aws_regions"),
            all_contexts=bool(config.get("fleet.kube_all_contexts")),
            organization=organization_options(config, None),
        )
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m postureapp.serve.session")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--allow-write", action="store_true")
    parser.add_argument("--allow-poll", action="store_true")
    parser.add_argument("--interval", type=int)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the dashboard for one browser session until the browser leaves."""
    args = _parser().parse_args(argv)
    from postureapp.config import load_config
    from postureapp.tui.app import PostureApp

    config = load_config(args.config)
    targets = configured_targets(config) if args.allow_poll else None
    app = PostureApp(
        args.db,
        config=config,
        targets=targets,
        offline=targets is None,
        interval=args.interval,
        allow_write=args.allow_write,
        freeze_gc=True,
    )
    app.run()


if __name__ == "__main__":
    main()
