"""OmicsEngine: loads both omics models once from a version folder and serves predictions.

Version folder layout (written by ``python -m training.omics``): ``rosmap/model.json``,
``tcga_paad/model.json``, ``metrics.json``, ``MODEL_CARD.md``, ``EVALUATION.md``. Artifacts are
plain JSON (no pickles), so loading one never executes code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from inference.config import InferenceConfig
from inference.engines.base import DISCLAIMER, Limits
from inference.engines.omics.layers import InvalidValue
from inference.engines.omics.paad import PaadModel
from inference.engines.omics.rosmap import RosmapModel
from inference.engines.omics.schema import RESULT_SCHEMA
from inference.engines.omics.table import MAX_CELL_CHARS, MAX_FILE_BYTES
from inference.errors import InvalidInput, NotReady

MODEL_NAMES = {"rosmap": "omics-rosmap-late-fusion-logreg", "tcga_paad": "omics-paad-ridge-cox"}
MAX_BATCH = 256
# How many of the features that moved the score an answer lists (``top_k``): by default, and most.
DEFAULT_TOP_FEATURES = 10
MAX_TOP_FEATURES = 50


class OmicsEngine:
    """Multi-omics models: ``rosmap`` (AD vs control) and ``tcga_paad`` (survival risk)."""

    name: ClassVar[str] = "omics"
    model_name = "cdss-omics"
    result_schema: ClassVar[dict[str, Any]] = RESULT_SCHEMA

    def __init__(self, config: InferenceConfig | None = None) -> None:
        self.config = config or InferenceConfig()
        self.version: str | None = None
        self._models: dict[str, RosmapModel | PaadModel] = {}
        self._metrics: dict[str, Any] = {}

    @classmethod
    def limits(cls, config: InferenceConfig) -> Limits:
        """The bounds of ``POST /api/v1/omics/predict`` (inclusive): a JSON body or a CSV table."""
        return {
            "max_body_bytes": config.max_body,
            "max_samples": MAX_BATCH,
            "max_file_bytes": MAX_FILE_BYTES,
            "max_cell_chars": MAX_CELL_CHARS,
            "max_top_features": MAX_TOP_FEATURES,
        }

    def load(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        models: dict[str, RosmapModel | PaadModel] = {
            "rosmap": RosmapModel(model_dir / "rosmap" / "model.json"),
            "tcga_paad": PaadModel(model_dir / "tcga_paad" / "model.json"),
        }
        metrics_file = model_dir / "metrics.json"
        metrics = (
            json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
        )
        self._models, self._metrics, self.version = models, metrics, model_dir.name

    @property
    def loaded(self) -> bool:
        return self.version is not None

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(MODEL_NAMES)

    def _model(self, model: Any) -> RosmapModel | PaadModel:
        if not self.loaded:
            raise NotReady("omics: model not loaded")
        if not isinstance(model, str) or model not in self._models:
            raise InvalidInput(
                f"model: unknown omics model {model!r}; expected one of {list(MODEL_NAMES)}",
                field="model",
            )
        return self._models[model]

    def predict(
        self, model: str, sample: dict[str, Any], *, top_k: int = DEFAULT_TOP_FEATURES
    ) -> dict[str, Any]:
        """One sample ``{layer: {feature: value}}`` -> result dict (see the model card), with the
        ``top_k`` features that moved the score most."""
        result = self._model(model).predict(sample, top_k=top_k)
        result["model_name"] = MODEL_NAMES[model]
        result["model_version"] = self.version
        result["disclaimer"] = DISCLAIMER
        return result

    def predict_batch(
        self,
        model: str,
        samples: list[Any],
        *,
        values_fail_batch: bool = False,
        top_k: int = DEFAULT_TOP_FEATURES,
    ) -> list[dict[str, Any]]:
        """Each sample answered alone: ``{"ok": True, ...result}`` or ``{"ok": False, error}``.

        With ``values_fail_batch`` (a table upload), a bad value fails the whole batch instead:
        the ``InvalidValue`` is raised with ``index`` set to its sample's position.
        """
        self._model(model)
        if len(samples) > MAX_BATCH:
            raise InvalidInput(
                f"samples: {len(samples)} samples, at most {MAX_BATCH} per request", field="samples"
            )
        out: list[dict[str, Any]] = []
        for index, sample in enumerate(samples):
            try:
                result = self.predict(model, sample, top_k=top_k)
                out.append({"ok": True, "index": index, **result})
            except InvalidValue as exc:
                if values_fail_batch:
                    exc.index = index
                    raise
                out.append({"ok": False, "index": index, **exc.to_dict()})
            except InvalidInput as exc:
                out.append({"ok": False, "index": index, **exc.to_dict()})
        return out

    def template(self, model: str) -> dict[str, Any]:
        """The input table of ``model``: its columns and one example row that it accepts."""
        columns = self._model(model).template()
        return {
            "model": model,
            "model_name": MODEL_NAMES[model],
            "model_version": self.version,
            "columns": [name for name, _ in columns],
            "example": [value for _, value in columns],
        }

    def info(self) -> dict[str, Any]:
        models: dict[str, Any] = {}
        for key, m in self._models.items():
            entry: dict[str, Any] = {
                "model_name": MODEL_NAMES[key],
                "layers": m.feature_counts(),
                "hyperparameters": m.hyperparameters,
                "metrics": self._metrics.get(key, {}),
            }
            if isinstance(m, RosmapModel):
                entry["task"] = "classification: Alzheimer's disease vs normal control (ROSMAP)"
                entry["labels"] = [m.labels["positive"], m.labels["negative"]]
                entry["input_scale"] = m.input_scale
            else:
                entry["task"] = (
                    "survival risk: overall survival, pancreatic adenocarcinoma (TCGA-PAAD)"
                )
                entry["labels"] = ["high", "low"]
                entry["clinical_encoding"] = m.encoding
            models[key] = entry
        return {
            "name": self.name,
            "model_name": self.model_name,
            "version": self.version,
            "loaded": self.loaded,
            "tasks": {key: models[key]["task"] for key in models},
            "labels": {key: models[key]["labels"] for key in models},
            "metrics": {key: models[key]["metrics"] for key in models},
            "models": models,
            "max_batch": MAX_BATCH,
            "disclaimer": DISCLAIMER,
        }
