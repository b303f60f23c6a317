"""Settings of the inference server, read once from the environment into frozen dataclasses.

Every setting the server knows is declared here with its default: ``InferenceConfig`` for the app
(engines, folders, limits) and ``GunicornSettings`` for the production process manager. No other
module reads ``os.environ`` (a test checks); code that needs a setting takes the config. The server
binds to 127.0.0.1 by default: it is local-only, the web backend is its one client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from inference.engines import ENGINES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_BODY = 16 * 1024 * 1024
# What one imaging upload (a NIfTI volume or a zipped DICOM series) may weigh, on that route only.
DEFAULT_IMAGING_MAX_UPLOAD = 1024 * 1024 * 1024
# What an imaging volume may decode to (header dims x bytes per voxel, and what a gzip stream may
# inflate to): 1 GiB holds a 512x512x1000 float32 or a 512x512x2048 int16 CT.
DEFAULT_IMAGING_MAX_DECODED_BYTES = 1024 * 1024 * 1024
# The trainers' data sets folder (training.*: CDSS_DATASETS_DIR or <repo>/../shared/datasets).
DEFAULT_DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"
# The shortest metrics token accepted: anything shorter is refused at start.
METRICS_TOKEN_MIN_LENGTH = 32


def _parse_int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _parse_engines(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [name for name in names if name not in ENGINES]
    if unknown:
        raise ValueError(
            f"CDSS_INFERENCE_ENGINES names unknown engines {unknown}; known: {list(ENGINES)}"
        )
    return names


def _absolute(raw: str) -> Path:
    """A configured folder: relative ones are taken from the repository root."""
    path = Path(raw).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def _parse_roots(raw: str) -> tuple[Path, ...]:
    """Folders separated by commas or ``os.pathsep``; empty means none."""
    parts = raw.replace(os.pathsep, ",").split(",")
    return tuple(dict.fromkeys(_absolute(part.strip()) for part in parts if part.strip()))


@dataclass(frozen=True)
class InferenceConfig:
    """What one inference server process needs to know.

    ``models_dir`` holds the committed artifacts (``<kind>/CURRENT`` + ``<kind>/<version>/``);
    ``runtime_models_dir`` holds versions retrained at run time, whose ``CURRENT`` wins.
    ``max_body`` is the request size limit in bytes (larger bodies get a 413).
    ``engines`` lists the engines this process loads at start.
    ``training_data_roots``: the only folders (and their subfolders) a retrain request may name;
    empty disables retraining. ``imaging_max_decoded_bytes`` caps what one imaging volume or
    segmentation may decode to (a 413 above it, before anything is inflated).
    ``media_root``: the only folder (and its subfolders) an imaging request may name by path (the
    web backend's media folder). ``imaging_bundles_dir``: the installed MONAI bundles a request may
    name. ``imaging_max_upload``: the body limit of the imaging upload route (other routes keep
    ``max_body``).
    """

    host: str = "127.0.0.1"
    port: int = 9000
    models_dir: Path = field(default_factory=lambda: REPO_ROOT / "models")
    runtime_models_dir: Path = field(default_factory=lambda: REPO_ROOT / "var" / "models")
    max_body: int = DEFAULT_MAX_BODY
    engines: tuple[str, ...] = tuple(ENGINES)
    # How often (seconds) a worker re-reads the CURRENT files to pick up a version promoted by a
    # retrain run in another process; 0 checks on every request.
    reload_check_interval_s: float = 2.0
    training_data_roots: tuple[Path, ...] = field(
        default_factory=lambda: (DEFAULT_DATASETS_DIR.resolve(),)
    )
    imaging_max_decoded_bytes: int = DEFAULT_IMAGING_MAX_DECODED_BYTES
    imaging_max_upload: int = DEFAULT_IMAGING_MAX_UPLOAD
    media_root: Path = field(default_factory=lambda: REPO_ROOT / "var" / "media")
    imaging_bundles_dir: Path = field(default_factory=lambda: REPO_ROOT / "var" / "bundles")
    # /metrics (inference.metrics): a loopback client, or this bearer token (32+ characters;
    # empty: loopback only). ``metrics_dir``: the folder this server's gunicorn workers share
    # their values through (``use_metrics_dir`` hands it to prometheus_client).
    metrics_token: str = field(default="", repr=False)  # a secret: never in a repr or a log
    metrics_dir: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InferenceConfig:
        """Build the config from ``CDSS_INFERENCE_*``, ``CDSS_*MODELS_DIR``, ``CDSS_IMAGING_*``
        and ``CDSS_MEDIA_ROOT`` (relative folders are taken from the repository root).

        ``CDSS_TRAINING_DATA_ROOTS`` unset: the one root is the trainers' data sets folder
        (``CDSS_DATASETS_DIR``, else ``<repo>/../shared/datasets``); set but empty: none, and
        retraining is refused.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        models_dir = env.get("CDSS_MODELS_DIR", "").strip()
        runtime_dir = env.get("CDSS_RUNTIME_MODELS_DIR", "").strip()
        engines_raw = env.get("CDSS_INFERENCE_ENGINES")
        roots_raw = env.get("CDSS_TRAINING_DATA_ROOTS")
        datasets_dir = env.get("CDSS_DATASETS_DIR", "").strip()
        media_root = env.get("CDSS_MEDIA_ROOT", "").strip()
        bundles_dir = env.get("CDSS_IMAGING_BUNDLES_DIR", "").strip()
        metrics_token = env.get("CDSS_METRICS_TOKEN", "").strip()
        if metrics_token and len(metrics_token) < METRICS_TOKEN_MIN_LENGTH:
            raise ValueError(
                f"CDSS_METRICS_TOKEN must be a random value of {METRICS_TOKEN_MIN_LENGTH} "
                "characters or more"
            )
        metrics_dir = env.get("CDSS_INFERENCE_METRICS_DIR", "").strip()
        if roots_raw is not None:
            roots = _parse_roots(roots_raw)
        elif datasets_dir:
            roots = (_absolute(datasets_dir),)
        else:
            roots = defaults.training_data_roots
        return cls(
            host=env.get("CDSS_INFERENCE_HOST", "").strip() or defaults.host,
            port=_parse_int(env, "CDSS_INFERENCE_PORT", defaults.port, minimum=0),
            models_dir=Path(models_dir).resolve() if models_dir else defaults.models_dir,
            runtime_models_dir=(
                Path(runtime_dir).resolve() if runtime_dir else defaults.runtime_models_dir
            ),
            max_body=_parse_int(env, "CDSS_INFERENCE_MAX_BODY", defaults.max_body, minimum=1),
            engines=(_parse_engines(engines_raw) if engines_raw is not None else defaults.engines),
            training_data_roots=roots,
            imaging_max_decoded_bytes=_parse_int(
                env,
                "CDSS_IMAGING_MAX_DECODED_BYTES",
                defaults.imaging_max_decoded_bytes,
                minimum=1024,
            ),
            imaging_max_upload=_parse_int(
                env, "CDSS_IMAGING_MAX_UPLOAD", defaults.imaging_max_upload, minimum=1
            ),
            media_root=_absolute(media_root) if media_root else defaults.media_root,
            imaging_bundles_dir=(
                _absolute(bundles_dir) if bundles_dir else defaults.imaging_bundles_dir
            ),
            metrics_token=metrics_token,
            metrics_dir=_absolute(metrics_dir) if metrics_dir else None,
        )


@dataclass(frozen=True)
class GunicornSettings:
    """How gunicorn runs the server in production (``inference/gunicorn_conf.py`` reads them).

    ``workers`` defaults to one per core; ``threads`` and ``keepalive`` apply to ``gthread``
    workers only; ``timeout`` bounds a stuck worker (seconds).
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    worker_class: str = "gthread"
    threads: int = 4
    timeout: int = 300
    keepalive: int = 5
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GunicornSettings:
        """Build them from ``CDSS_INFERENCE_WORKERS``, ``_WORKER_CLASS``, ``_THREADS``,
        ``_TIMEOUT``, ``_KEEPALIVE`` and ``_LOG_LEVEL``."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            workers=_parse_int(env, "CDSS_INFERENCE_WORKERS", defaults.workers, minimum=1),
            worker_class=env.get("CDSS_INFERENCE_WORKER_CLASS", "").strip()
            or defaults.worker_class,
            threads=_parse_int(env, "CDSS_INFERENCE_THREADS", defaults.threads, minimum=1),
            timeout=_parse_int(env, "CDSS_INFERENCE_TIMEOUT", defaults.timeout, minimum=0),
            keepalive=_parse_int(env, "CDSS_INFERENCE_KEEPALIVE", defaults.keepalive, minimum=0),
            log_level=env.get("CDSS_INFERENCE_LOG_LEVEL", "").strip() or defaults.log_level,
        )


def use_metrics_dir(
    config: InferenceConfig, environ: MutableMapping[str, str] | None = None
) -> None:
    """Points prometheus_client at ``config.metrics_dir`` (through PROMETHEUS_MULTIPROC_DIR,
    which it reads itself when first imported), or at none.

    Never the web server's folder, which the shared environment file may name: the two servers
    would then each report the other's metrics. Call before prometheus_client is imported (the
    gunicorn master does, in ``inference/gunicorn_conf.py``).
    """
    env = os.environ if environ is None else environ
    if config.metrics_dir is None:
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    else:
        config.metrics_dir.mkdir(parents=True, exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(config.metrics_dir)
