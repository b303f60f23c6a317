"""``SequenceEngine``: the pathogen-sequence engine the inference server loads and calls.

It reads one model version (``models/sequence/<version>/``; the registry picks which, a run-time
version under ``var/models/sequence`` winning over the committed one) and answers plain dicts in
the shape of the seed's ``/ml/v1/predict/`` (``prediction``, ``task3_structure``) plus
``nearest_references``, ``confidence``, ``model_name``, ``model_version`` and the disclaimer.
Thread-safe after ``load``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from inference.config import InferenceConfig
from inference.engines.base import DISCLAIMER, Limits
from inference.engines.sequence.artifacts import Bundle, load_bundle, resolve_version_dir
from inference.engines.sequence.inputs import (
    MAX_BATCH_ITEMS,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_NUCLEOTIDE_LENGTH,
    MAX_ORGANISM_HINT,
    MAX_PROTEIN_LENGTH,
    MAX_TOP_K,
    MIN_PROTEIN_LENGTH,
)
from inference.engines.sequence.predictor import NON_PATHOGEN, UNKNOWN, Predictor, TaskResult
from inference.engines.sequence.schema import RESULT_SCHEMA
from inference.engines.sequence.search import align_detail
from inference.engines.sequence.structures import StructureLinks
from inference.errors import InvalidInput, NotReady

_VALID = frozenset("ACDEFGHIKLMNPQRSTVWYBZXUO*")


class SequenceEngine:
    """Pathogen origin (task1), protein type (task2), specific protein (task3), references."""

    name: ClassVar[str] = "sequence"
    result_schema: ClassVar[dict[str, Any]] = RESULT_SCHEMA

    def __init__(self, config: InferenceConfig | None = None) -> None:
        self.config = config or InferenceConfig()
        self._bundle: Bundle | None = None
        self._predictor: Predictor | None = None
        self._links: StructureLinks | None = None
        self._version_dir: Path | None = None
        self._lock = threading.Lock()

    # -- Engine protocol -------------------------------------------------------------------

    @classmethod
    def limits(cls, config: InferenceConfig) -> Limits:
        """The bounds of ``POST /api/v1/predict`` and ``POST /api/v1/retrain`` (inclusive)."""
        return {
            "max_body_bytes": config.max_body,
            "max_batch_items": MAX_BATCH_ITEMS,
            "min_protein_length": MIN_PROTEIN_LENGTH,
            "max_protein_length": MAX_PROTEIN_LENGTH,
            "max_nucleotide_length": MAX_NUCLEOTIDE_LENGTH,
            "max_top_k": MAX_TOP_K,
            "max_organism_hint_length": MAX_ORGANISM_HINT,
            "max_retrain_epochs": MAX_EPOCHS,
            "max_retrain_batch_size": MAX_BATCH_SIZE,
        }

    def load(self, model_dir: Path) -> None:
        """Load a version folder, or the CURRENT version of a model root."""
        model_dir = Path(model_dir)
        if (model_dir / "manifest.json").exists():
            version_dir = model_dir
        else:
            version_dir = resolve_version_dir(model_dir)
        bundle = load_bundle(version_dir)
        predictor = Predictor(bundle)
        links = StructureLinks(version_dir, bundle.manifest.get("structures", {}))
        with self._lock:
            self._bundle, self._predictor, self._links = bundle, predictor, links
            self._version_dir = version_dir

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    @property
    def version(self) -> str | None:
        bundle = self._bundle
        return str(bundle.manifest["version"]) if bundle is not None else None

    @property
    def version_dir(self) -> Path | None:
        return self._version_dir

    def info(self) -> dict[str, Any]:
        bundle = self._bundle
        if bundle is None:
            return {"name": self.name, "model_name": None, "version": None, "tasks": {},
                    "metrics": {}, "loaded": False}  # fmt: skip
        labels = bundle.manifest["labels"]
        return {
            "name": self.name,
            "model_name": bundle.manifest["model_name"],
            "version": bundle.manifest["version"],
            "model_version": bundle.manifest["version"],
            "tasks": {
                "task1": {
                    "description": "pathogen-origin protein or not; probability = P(pathogen)",
                    "labels": labels["task1"],
                },
                "task2": {"description": "protein type", "labels": labels["task2"]},
                "task3": {"description": "specific protein or strain", "labels": labels["task3"]},
                "nearest_references": {
                    "description": "Smith-Waterman hits against the reference set",
                    "n_references": len(bundle.references),
                },
            },
            "metrics": bundle.metrics,
            "loaded": True,
        }

    # -- predictions -----------------------------------------------------------------------

    def predict_protein(
        self,
        protein: str,
        *,
        task3_threshold: float | None = None,
        organism_hint: str | None = None,
        top_k: int = 5,
    ) -> dict[str, Any]:
        """One protein -> the seed's prediction dict plus references and confidence."""
        return self.predict_proteins(
            [protein], task3_threshold=task3_threshold, organism_hint=organism_hint, top_k=top_k
        )[0]

    def predict_proteins(
        self,
        proteins: list[str],
        *,
        task3_threshold: float | None = None,
        organism_hint: str | None = None,
        top_k: int = 5,
    ) -> list[dict[str, Any]]:
        """Many proteins; the composition models run once for the whole batch."""
        predictor, bundle = self._predictor, self._bundle
        if predictor is None or bundle is None:
            raise NotReady("the sequence model is not loaded", field="sequence")
        for i, protein in enumerate(proteins):
            if not protein or not set(protein) <= _VALID:
                raise InvalidInput(
                    f"item {i}: not an upper-case protein sequence", field="sequence"
                )
        if task3_threshold is not None and not 0.0 <= float(task3_threshold) <= 1.0:
            raise InvalidInput("task3_threshold must be between 0 and 1", field="task3_threshold")
        top_k = max(1, min(int(top_k), MAX_TOP_K))
        p1_lr, p2_lr = predictor.composition(proteins)
        out = []
        for i, protein in enumerate(proteins):
            refs, raw, norm, strength, evidence = predictor.hits(protein)
            boost = predictor.organism_boost(refs, organism_hint)
            result = predictor.combine(
                p1_lr[i], p2_lr[i], refs, raw, norm, strength, evidence, boost
            )
            out.append(self._format(protein, result, bundle, task3_threshold, boost, top_k))
        return out

    def structure_path(self, pdb_id: str) -> Path | None:
        """Local staged PDB file for the viewer (plain text), or None when not staged."""
        links = self._links
        return links.path(pdb_id) if links is not None else None

    # -- formatting ------------------------------------------------------------------------

    def _format(
        self,
        protein: str,
        result: TaskResult,
        bundle: Bundle,
        task3_threshold: float | None,
        boost: np.ndarray | None,
        top_k: int,
    ) -> dict[str, Any]:
        assert self._predictor is not None and self._links is not None
        predictor, links = self._predictor, self._links
        unknown = result.confidence == "unknown"
        best2 = int(np.argmax(result.task2))
        task2: dict[str, Any] = {
            "protein_type": UNKNOWN if unknown else predictor.task2_labels[best2],
            "probability": round(float(result.task2[best2]), 4),
        }
        if unknown:
            task2["best_guess"] = predictor.task2_labels[best2]
        ranked = np.argsort(-result.task3)[:top_k]
        pairs = [
            (predictor.task3_labels[int(c)], round(float(result.task3[c]), 4))
            for c in ranked
            if result.task3[c] > 0
        ]
        if task3_threshold is not None:
            pairs = [(label, p) for label, p in pairs if p >= task3_threshold]
        if unknown:
            pairs = []
        top3: list[list[Any]] = [[label, p] for label, p in pairs]
        top_label = pairs[0][0] if pairs else UNKNOWN
        top_prob = pairs[0][1] if pairs else 0.0

        nearest = self._nearest(protein, result, bundle, boost, top_k)
        uniprot_hits: list[dict[str, Any]] = []
        if top3:
            labelled = links.label_uniprot(top_label)
            if labelled:
                uniprot_hits.append(labelled)
        seen = {h["uniprot_id"] for h in uniprot_hits}
        # Only references consistent with the predicted protein: same task3 label, or (for a
        # generic label such as "Non-pathogen protein") the same task2 type; none when unknown.
        top3_index = predictor.task3_labels.index(top_label) if top3 else -2
        generic = top_label == NON_PATHOGEN
        for hit in nearest:
            ref = bundle.references[hit["_ref"]]
            consistent = (ref.task3 == top3_index and not generic) or (
                generic and ref.task2 == best2 and not unknown
            )
            if consistent and ref.uniprot and ref.uniprot not in seen and len(uniprot_hits) < 3:
                seen.add(ref.uniprot)
                uniprot_hits.append(
                    {
                        "uniprot_id": ref.uniprot,
                        "protein_name": ref.name,
                        "organism": ref.organism,
                        "preferred_3d": hit["structure"] if hit["structure"]["id"] else None,
                    }
                )
        for hit in nearest:
            del hit["_ref"]
        return {
            "prediction": {
                "task1": {
                    "is_pathogen": bool(result.p_pathogen >= 0.5),
                    "probability": round(result.p_pathogen, 4),
                },
                "task2": task2,
                "task3": {"top_predictions": top3},
            },
            "task3_structure": {
                "protein_name": top_label,
                "top1_probability": round(top_prob, 4),
                "uniprot_hits": uniprot_hits,
            },
            "nearest_references": nearest,
            "confidence": result.confidence,
            "model_name": bundle.manifest["model_name"],
            "model_version": bundle.manifest["version"],
            "disclaimer": DISCLAIMER,
        }

    def _nearest(
        self,
        protein: str,
        result: TaskResult,
        bundle: Bundle,
        boost: np.ndarray | None,
        top_k: int,
    ) -> list[dict[str, Any]]:
        """Top references with identity/coverage from a traceback alignment and a 3D link."""
        assert self._predictor is not None and self._links is not None
        order = np.arange(result.hit_refs.size)
        if boost is not None:
            # Organism hint: a matching reference wins over a non-matching one with a close score.
            order = np.lexsort((-result.hit_scores * boost[order] ** 0.05,))
        out = []
        for j in order[:top_k].tolist():
            ref_index = int(result.hit_refs[j])
            ref = bundle.references[ref_index]
            aln = align_detail(protein, ref.sequence)
            label = self._predictor.task3_labels[ref.task3] if ref.task3 >= 0 else ""
            out.append(
                {
                    "id": ref.id,
                    "name": ref.name,
                    "organism": ref.organism,
                    "identity": round(aln.identity, 4),
                    "coverage": round(aln.coverage, 4),
                    "score": int(aln.score),
                    "label": label,
                    "structure": self._links.for_reference(ref.source, ref.uniprot, label),
                    "_ref": ref_index,
                }
            )
        return out
