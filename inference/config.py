"""Settings of the inference server, read once from the environment into a frozen dataclass.

Every setting the server knows is declared here with its default; nothing else reads ``os.environ``
for server settings. The server binds to 127.0.0.1 by default: it is local-only, the web backend
is its one client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KNOWN_ENGINES = ("sequence", "omics", "imaging")
DEFAULT_MAX_BODY = 16 * 1024 * 1024
# What an imaging volume may decode to (header dims x bytes per voxel, and what a gzip stream may
# inflate to): 1 GiB holds a 512x512x1000 float32 or a 512x512x2048 int16 CT.
DEFAULT_IMAGING_MAX_DECODED_BYTES = 1024 * 1024 * 1024
# The trainers' data sets folder (training.*: CDSS_DATASETS_DIR or <repo>/../shared/datasets).
DEFAULT_DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"


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
    unknown = [name for name in names if name not in KNOWN_ENGINES]
    if unknown:
        raise ValueError(
            f"CDSS_INFERENCE_ENGINES names unknown engines {unknown}; known: {list(KNOWN_ENGINES)}"
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
    """

    host: str = "127.0.0.1"
    port: int = 9000
    models_dir: Path = field(default_factory=lambda: REPO_ROOT / "models")
    runtime_models_dir: Path = field(default_factory=lambda: REPO_ROOT / "var" / "models")
    max_body: int = DEFAULT_MAX_BODY
    engines: tuple[str, ...] = KNOWN_ENGINES
    # How often (seconds) a worker re-reads the CURRENT files to pick up a version promoted by a
    # retrain run in another process; 0 checks on every request.
    reload_check_interval_s: float = 2.0
    training_data_roots: tuple[Path, ...] = field(
        default_factory=lambda: (DEFAULT_DATASETS_DIR.resolve(),)
    )
    imaging_max_decoded_bytes: int = DEFAULT_IMAGING_MAX_DECODED_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InferenceConfig:
        """Build the config from ``CDSS_INFERENCE_*`` / ``CDSS_*MODELS_DIR`` variables.

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
        )
