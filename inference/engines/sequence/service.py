"""The sequence predict service: validated request in, seed-shaped response out.

``predict_single`` and ``predict_batch`` take the parsed JSON body, validate every field through
``inference.engines.sequence.inputs``, call the sequence engine (``predict_protein`` /
``predict_proteins``) and assemble the response of the seed's ML API. In a batch each item is
validated and predicted on its own terms: a bad item becomes ``{ok: false, index, id, error,
field}`` and never fails the batch.
No Flask here; the route only hands over the body and serializes the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from inference.engines.base import DISCLAIMER
from inference.engines.sequence.inputs import (
    MAX_BATCH_ITEMS,
    MAX_ORGANISM_HINT,
    MAX_TOP_K,
    Translation,
    prepare_sequence,
)
from inference.errors import InvalidInput

# Items handed to the engine per vectorised call: bounds peak memory on a 10,000-item batch.
ENGINE_CHUNK = 128


class SequencePredictor(Protocol):
    """The two calls of the sequence engine this service uses."""

    def predict_protein(
        self,
        protein: str,
        *,
        task3_threshold: float | None = None,
        organism_hint: str | None = None,
        top_k: int = 5,
    ) -> dict[str, Any]: ...

    def predict_proteins(self, proteins: list[str], **kwargs: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class PredictOptions:
    """Options that apply to every item of a request."""

    task3_threshold: float | None = None
    organism_hint: str | None = None
    top_k: int = 5

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "task3_threshold": self.task3_threshold,
            "organism_hint": self.organism_hint,
            "top_k": self.top_k,
        }


def parse_options(body: dict[str, Any]) -> PredictOptions:
    """``task3_threshold`` (0..1), ``organism_hint`` (text), ``top_k`` (1..50)."""
    threshold = body.get("task3_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidInput(
                f"task3_threshold: must be a number between 0 and 1, got {threshold!r}",
                field="task3_threshold",
            )
        if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
            raise InvalidInput(
                f"task3_threshold: must be between 0 and 1, got {threshold!r}",
                field="task3_threshold",
            )
        threshold = float(threshold)
    hint = body.get("organism_hint")
    if hint is not None:
        if not isinstance(hint, str):
            raise InvalidInput("organism_hint: must be a string", field="organism_hint")
        hint = " ".join(hint.split())
        if len(hint) > MAX_ORGANISM_HINT:
            raise InvalidInput(
                f"organism_hint: is too long ({len(hint)} characters, at most {MAX_ORGANISM_HINT})",
                field="organism_hint",
            )
        hint = hint or None
    top_k = body.get("top_k", 5)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(
            f"top_k: must be an integer between 1 and {MAX_TOP_K}, got {top_k!r}", field="top_k"
        )
    return PredictOptions(task3_threshold=threshold, organism_hint=hint, top_k=top_k)


def _shape(result: dict[str, Any], translation: Translation) -> dict[str, Any]:
    """One prediction in the seed's shape, plus the evidence and labels every result carries."""
    return {
        "model_name": result.get("model_name"),
        "model_version": result.get("model_version"),
        "translation": translation.as_dict(),
        "prediction": result.get("prediction"),
        "task3_structure": result.get("task3_structure"),
        "nearest_references": result.get("nearest_references", []),
        "confidence": result.get("confidence"),
        "disclaimer": result.get("disclaimer") or DISCLAIMER,
    }


def predict_single(
    body: dict[str, Any], engine: SequencePredictor, *, options: PredictOptions | None = None
) -> dict[str, Any]:
    """The seed's single-sample call: ``{sequence, seq_type, frame, task3_threshold, ...}``."""
    options = options or parse_options(body)
    translation = prepare_sequence(body.get("sequence"), body.get("seq_type"), body.get("frame"))
    result = engine.predict_protein(translation.protein, **options.as_kwargs())
    return {"ok": True, **_shape(result, translation)}


def _item_error(index: int, item_id: Any, exc: InvalidInput) -> dict[str, Any]:
    error: dict[str, Any] = {"ok": False, "index": index, "id": item_id, "error": exc.message}
    if exc.field:
        error["field"] = exc.field
    return error


def parse_items(body: dict[str, Any]) -> list[Any]:
    items = body.get("items")
    if not isinstance(items, list):
        raise InvalidInput(
            "items: must be a list of {id, sequence, seq_type, frame}", field="items"
        )
    if not items:
        raise InvalidInput("items: is empty", field="items")
    if len(items) > MAX_BATCH_ITEMS:
        raise InvalidInput(
            f"items: has {len(items)} entries, at most {MAX_BATCH_ITEMS} are allowed per request",
            field="items",
        )
    return items


def _predict_chunk(
    engine: SequencePredictor, proteins: list[str], options: PredictOptions
) -> list[dict[str, Any] | InvalidInput]:
    """Vectorised when possible; if the engine rejects the chunk, item by item to isolate it."""
    try:
        return list(engine.predict_proteins(proteins, **options.as_kwargs()))
    except InvalidInput:
        pass
    results: list[dict[str, Any] | InvalidInput] = []
    for protein in proteins:
        try:
            results.append(engine.predict_protein(protein, **options.as_kwargs()))
        except InvalidInput as exc:
            results.append(exc)
    return results


def predict_batch(
    body: dict[str, Any],
    engine: SequencePredictor,
    *,
    default_version: str | None,
    default_name: str | None = None,
    options: PredictOptions | None = None,
) -> dict[str, Any]:
    """The seed's batch call: ``{items: [{id, sequence, seq_type, frame}], task3_threshold}``."""
    options = options or parse_options(body)
    items = parse_items(body)
    results: list[dict[str, Any] | None] = [None] * len(items)
    pending: list[tuple[int, Any, Translation]] = []
    for index, item in enumerate(items):
        prefix = f"items[{index}]."
        if not isinstance(item, dict):
            results[index] = _item_error(
                index,
                None,
                InvalidInput(f"items[{index}]: must be an object", field=f"items[{index}]"),
            )
            continue
        item_id = item.get("id")
        try:
            translation = prepare_sequence(
                item.get("sequence"), item.get("seq_type"), item.get("frame"), prefix=prefix
            )
        except InvalidInput as exc:
            results[index] = _item_error(index, item_id, exc)
            continue
        pending.append((index, item_id, translation))

    model_name = default_name
    model_version = default_version
    for start in range(0, len(pending), ENGINE_CHUNK):
        chunk = pending[start : start + ENGINE_CHUNK]
        outcomes = _predict_chunk(engine, [t.protein for _, _, t in chunk], options)
        for (index, item_id, translation), outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, InvalidInput):
                results[index] = _item_error(index, item_id, outcome)
                continue
            shaped = _shape(outcome, translation)
            model_name = shaped["model_name"] or model_name
            model_version = shaped["model_version"] or model_version
            results[index] = {"ok": True, "index": index, "id": item_id, **shaped}

    done = [r for r in results if r is not None]
    succeeded = sum(1 for r in done if r["ok"])
    return {
        "ok": True,
        "batch": True,
        "model_name": model_name,
        "model_version": model_version,
        "count": len(done),
        "succeeded": succeeded,
        "failed": len(done) - succeeded,
        "disclaimer": DISCLAIMER,
        "results": done,
    }
