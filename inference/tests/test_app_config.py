"""InferenceConfig.from_env: defaults, overrides and the errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.config import DEFAULT_MAX_BODY, REPO_ROOT, GunicornSettings, InferenceConfig


def test_defaults_are_local_only_and_repo_relative() -> None:
    config = InferenceConfig.from_env({})
    assert (config.host, config.port) == ("127.0.0.1", 9000)
    assert config.models_dir == REPO_ROOT / "models"
    assert config.runtime_models_dir == REPO_ROOT / "var" / "models"
    assert config.max_body == DEFAULT_MAX_BODY == 16 * 1024 * 1024
    assert config.engines == ("sequence", "omics", "imaging")


def test_environment_overrides(tmp_path: Path) -> None:
    config = InferenceConfig.from_env(
        {
            "CDSS_INFERENCE_HOST": "127.0.0.2",
            "CDSS_INFERENCE_PORT": "9100",
            "CDSS_MODELS_DIR": str(tmp_path / "m"),
            "CDSS_RUNTIME_MODELS_DIR": str(tmp_path / "r"),
            "CDSS_INFERENCE_MAX_BODY": "1024",
            "CDSS_INFERENCE_ENGINES": " omics , sequence,omics ",
        }
    )
    assert (config.host, config.port, config.max_body) == ("127.0.0.2", 9100, 1024)
    assert config.models_dir == tmp_path / "m" and config.runtime_models_dir == tmp_path / "r"
    assert config.engines == ("omics", "sequence")
    assert InferenceConfig.from_env({"CDSS_INFERENCE_ENGINES": ""}).engines == ()


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"CDSS_INFERENCE_PORT": "http"}, "CDSS_INFERENCE_PORT must be an integer"),
        ({"CDSS_INFERENCE_MAX_BODY": "0"}, "CDSS_INFERENCE_MAX_BODY must be >= 1"),
        ({"CDSS_INFERENCE_ENGINES": "sequence,vision"}, "unknown engines ['vision']"),
    ],
)
def test_bad_values_fail_loudly(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        InferenceConfig.from_env(env)


def test_config_is_frozen() -> None:
    config = InferenceConfig()
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]


def test_imaging_settings(tmp_path: Path) -> None:
    defaults = InferenceConfig.from_env({})
    assert defaults.media_root == REPO_ROOT / "var" / "media"
    assert defaults.imaging_bundles_dir == REPO_ROOT / "var" / "bundles"
    assert defaults.imaging_max_upload == 1024**3
    config = InferenceConfig.from_env(
        {
            "CDSS_MEDIA_ROOT": "var/elsewhere",
            "CDSS_IMAGING_BUNDLES_DIR": str(tmp_path / "bundles"),
            "CDSS_IMAGING_MAX_UPLOAD": "4096",
        }
    )
    assert config.media_root == REPO_ROOT / "var" / "elsewhere"  # relative: from the repo root
    assert config.imaging_bundles_dir == tmp_path / "bundles"
    assert config.imaging_max_upload == 4096
    with pytest.raises(ValueError, match="CDSS_IMAGING_MAX_UPLOAD must be an integer"):
        InferenceConfig.from_env({"CDSS_IMAGING_MAX_UPLOAD": "1GB"})


def test_gunicorn_settings() -> None:
    defaults = GunicornSettings.from_env({})
    assert defaults == GunicornSettings()
    assert (defaults.worker_class, defaults.threads, defaults.timeout) == ("gthread", 4, 300)
    assert defaults.workers >= 1
    settings = GunicornSettings.from_env(
        {
            "CDSS_INFERENCE_WORKERS": "3",
            "CDSS_INFERENCE_WORKER_CLASS": "sync",
            "CDSS_INFERENCE_THREADS": "2",
            "CDSS_INFERENCE_TIMEOUT": "60",
            "CDSS_INFERENCE_KEEPALIVE": "0",
            "CDSS_INFERENCE_LOG_LEVEL": "debug",
        }
    )
    assert settings == GunicornSettings(
        workers=3, worker_class="sync", threads=2, timeout=60, keepalive=0, log_level="debug"
    )
    with pytest.raises(ValueError, match="CDSS_INFERENCE_WORKERS must be >= 1"):
        GunicornSettings.from_env({"CDSS_INFERENCE_WORKERS": "0"})
