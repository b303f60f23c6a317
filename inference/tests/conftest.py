"""Fixtures of the inference server tests.

Two kinds of app: ``fake_app`` hosts a tiny stand-in sequence engine (route and error-shape tests
that must not depend on a trained model), and ``real_app`` / ``real_client`` host the real engines
loaded from the committed ``models/`` (the stand-in never replaces those tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines.base import DISCLAIMER, Limits
from inference.engines.sequence import SequenceEngine
from inference.errors import InvalidInput
from inference.registry import EngineRegistry


class FakeSequenceEngine:
    """A stand-in with the sequence engine's API; answers are a deterministic hash of the input.

    It rejects proteins containing ``B`` with ``InvalidInput`` so tests can check that an engine
    error in a batch fails only its own item. Its limits and result schema are the real engine's:
    the routes it serves are the real ones.
    """

    name: ClassVar[str] = "sequence"
    model_name = "fake-sequence"
    result_schema: ClassVar[dict[str, Any]] = SequenceEngine.result_schema

    def __init__(self, config: InferenceConfig | None = None) -> None:
        self.version: str | None = None
        self.calls: list[int] = []

    @classmethod
    def limits(cls, config: InferenceConfig) -> Limits:
        return SequenceEngine.limits(config)

    def load(self, model_dir: Path) -> None:
        self.version = Path(model_dir).name

    @property
    def loaded(self) -> bool:
        return self.version is not None

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model_name": self.model_name,
            "version": self.version,
            "tasks": {"task1": ["pathogen", "non-pathogen"]},
            "metrics": {"task1": {"roc_auc": 0.5}},
            "loaded": self.loaded,
        }

    def predict_protein(
        self,
        protein: str,
        *,
        task3_threshold: float | None = None,
        organism_hint: str | None = None,
        top_k: int = 5,
    ) -> dict[str, Any]:
        if "B" in protein:
            raise InvalidInput("protein: the fake engine refuses B", field="sequence")
        digest = hashlib.sha256(protein.encode()).digest()
        p = digest[0] / 255
        return {
            "prediction": {
                "task1": {"is_pathogen": p >= 0.5, "probability": p},
                "task2": {"protein_type": "Fake", "probability": p},
                "task3": {"top_predictions": [["FAKE", p]][:top_k]},
            },
            "task3_structure": {"protein_name": "FAKE", "top1_probability": p, "uniprot_hits": []},
            "nearest_references": [],
            "confidence": "low",
            "echo": {"task3_threshold": task3_threshold, "organism_hint": organism_hint},
            "model_name": self.model_name,
            "model_version": self.version,
            "disclaimer": DISCLAIMER,
        }

    def predict_proteins(self, proteins: list[str], **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(len(proteins))
        return [self.predict_protein(p, **kwargs) for p in proteins]

    def structure_path(self, pdb_id: str) -> Path | None:
        return None


def make_models_dir(root: Path, version: str = "seq-test.0") -> Path:
    """A ``models/`` tree with ``sequence/CURRENT`` naming an (empty) version folder."""
    (root / "sequence" / version).mkdir(parents=True)
    (root / "sequence" / "CURRENT").write_text(version + "\n")
    return root


@pytest.fixture
def fake_engine_class() -> type[FakeSequenceEngine]:
    return FakeSequenceEngine


@pytest.fixture
def fake_config(tmp_path: Path) -> InferenceConfig:
    return InferenceConfig(
        models_dir=make_models_dir(tmp_path / "models"),
        runtime_models_dir=tmp_path / "var" / "models",
        max_body=64 * 1024,
        engines=("sequence",),
        reload_check_interval_s=0.0,
    )


@pytest.fixture
def fake_app(fake_config: InferenceConfig) -> Flask:
    registry = EngineRegistry(fake_config, factories={"sequence": FakeSequenceEngine})
    registry.load_all()
    return create_app(fake_config, registry=registry)


@pytest.fixture
def fake_client(fake_app: Flask) -> FlaskClient:
    return fake_app.test_client()


@pytest.fixture(scope="session")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Every engine, loaded from the committed models; retrains go to a temporary runtime dir."""
    config = InferenceConfig(
        models_dir=REPO_ROOT / "models",
        runtime_models_dir=tmp_path_factory.mktemp("runtime-models"),
    )
    app = create_app(config)
    yield app


@pytest.fixture
def real_client(real_app: Flask) -> FlaskClient:
    return real_app.test_client()
