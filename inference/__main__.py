"""``python -m inference``: run the inference server.

Without flags: Werkzeug's threaded server, one process (development and tests).
``--gunicorn``: replace this process with gunicorn using ``inference/gunicorn_conf.py``
(production).
Host and port come from ``CDSS_INFERENCE_HOST`` / ``CDSS_INFERENCE_PORT`` unless given here.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from inference.config import InferenceConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__)
    parser.add_argument("--host", help="bind address (default: CDSS_INFERENCE_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: CDSS_INFERENCE_PORT or 9000)")
    parser.add_argument("--gunicorn", action="store_true", help="run under gunicorn (production)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn_conf)")
    return parser.parse_args(argv)


def run_gunicorn(config: InferenceConfig, workers: int | None) -> None:
    """Exec gunicorn; the bind address is passed through the environment to gunicorn_conf."""
    env = dict(os.environ)
    env["CDSS_INFERENCE_HOST"] = config.host
    env["CDSS_INFERENCE_PORT"] = str(config.port)
    if workers is not None:
        env["CDSS_INFERENCE_WORKERS"] = str(workers)
    conf = Path(__file__).with_name("gunicorn_conf.py")
    argv = [sys.executable, "-m", "gunicorn", "-c", str(conf), "inference.app:create_app()"]
    os.execve(sys.executable, argv, env)  # noqa: S606 - fixed argv, replaces this process


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    config = InferenceConfig.from_env()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    config = dataclasses.replace(config, **overrides)
    if args.gunicorn:
        run_gunicorn(config, args.workers)
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from inference.app import create_app

    app = create_app(config)
    from werkzeug.serving import run_simple

    run_simple(config.host, config.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
