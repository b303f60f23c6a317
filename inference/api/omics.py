"""HTTP route of the omics engine: ``POST /api/v1/omics/predict``.

Input, one of:

- JSON ``{"model": "rosmap" | "tcga_paad", "sample": {layer: {feature: value}}}``;
- JSON ``{"model": ..., "samples": [sample, ...]}`` (each sample answered alone);
- multipart form with ``model`` and a CSV ``file`` (one row per sample, columns
  ``<layer>:<feature>``, optional ``id``), answered as a batch.

Bad input is a 400 naming the field; an oversized body or file is a 413. A bad value in a table
(not a finite number, or outside the feature's accepted range) fails the whole upload with a 400
naming its row and column; in a JSON batch it fails only its own sample. The route only parses
and serializes; validation of values and all model logic live in ``inference.engines.omics``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from inference.api import request_json, server_state
from inference.engines.base import DISCLAIMER
from inference.engines.omics.engine import (
    DEFAULT_TOP_FEATURES,
    MAX_BATCH,
    MAX_TOP_FEATURES,
    MODEL_NAMES,
)
from inference.engines.omics.layers import InvalidValue
from inference.engines.omics.table import MAX_FILE_BYTES, parse_table
from inference.errors import InvalidInput, PayloadTooLarge

bp = Blueprint("omics", __name__, url_prefix="/api/v1/omics")


def _engine() -> Any:
    return server_state().engines["omics"]


def _model_field(value: Any) -> str:
    if value is None or value == "":
        raise InvalidInput("model: is required ('rosmap' or 'tcga_paad')", field="model")
    if not isinstance(value, str):
        raise InvalidInput("model: must be a string ('rosmap' or 'tcga_paad')", field="model")
    return value.strip()


def _top_k(value: Any) -> int:
    """The optional ``top_k`` form field: how many driving features each answer lists."""
    if value is None or value == "":
        return DEFAULT_TOP_FEATURES
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_TOP_FEATURES:
        raise InvalidInput(f"top_k: an integer from 1 to {MAX_TOP_FEATURES}", field="top_k")
    return number


def _batch_response(model: str, results: list[dict[str, Any]], engine: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "model": model,
        "count": len(results),
        "failed": sum(1 for r in results if not r.get("ok")),
        "results": results,
        "model_name": MODEL_NAMES[model],
        "model_version": getattr(engine, "version", None),
        "disclaimer": DISCLAIMER,
    }


def _predict_file() -> dict[str, Any]:
    upload = request.files["file"]
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"file: larger than {MAX_FILE_BYTES} bytes", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file: is not UTF-8 text (expected a CSV table)", field="file") from None
    model = _model_field(request.form.get("model"))
    top_k = _top_k(request.form.get("top_k"))
    engine = _engine()
    ids, samples = parse_table(text, max_rows=MAX_BATCH)
    try:
        results = engine.predict_batch(model, samples, values_fail_batch=True, top_k=top_k)
    except InvalidValue as exc:
        row, column = (exc.index or 0) + 1, f"{exc.layer}:{exc.name}"
        raise InvalidInput(
            f"file: row {row}, column {column!r}: {exc.reason}", field=f"file.row{row}.{column}"
        ) from None
    for result, sample_id in zip(results, ids, strict=True):
        if sample_id is not None:
            result["id"] = sample_id
    return _batch_response(model, results, engine)


@bp.get("/template")
def template() -> dict[str, Any]:
    """``?model=``: the model's input columns and an example row (for a downloadable CSV)."""
    model = _model_field(request.args.get("model"))
    return {"ok": True, **_engine().template(model)}


@bp.post("/predict")
def predict() -> dict[str, Any]:
    if request.files:
        if "file" not in request.files:
            raise InvalidInput("file: the upload must be in the form field 'file'", field="file")
        return _predict_file()
    body = request_json()
    model = _model_field(body.get("model"))
    engine = _engine()
    if "samples" in body:
        if "sample" in body:
            raise InvalidInput(
                "body: send either 'sample' (one) or 'samples' (a batch), not both", field="body"
            )
        samples = body["samples"]
        if not isinstance(samples, list):
            raise InvalidInput("samples: must be a list of samples", field="samples")
        if not samples:
            raise InvalidInput("samples: is empty", field="samples")
        if len(samples) > MAX_BATCH:
            raise InvalidInput(
                f"samples: {len(samples)} samples, at most {MAX_BATCH} per request", field="samples"
            )
        return _batch_response(model, engine.predict_batch(model, samples), engine)
    if "sample" not in body:
        raise InvalidInput("sample: is required ({layer: {feature: value}})", field="sample")
    return {"ok": True, **engine.predict(model, body["sample"])}
