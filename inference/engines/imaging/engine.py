"""The ImagingEngine: one CT analysis = load and validate the volume, measure the structures of its
segmentation (or of a MONAI bundle's output), and classify the adrenal glands.

``load(model_dir)`` reads a version folder of ``models/imaging/`` (adrenal classifier weights,
``adrenal_config.json``, ``metrics.json``). ``analyze`` returns a plain dict; every error the caller
can fix is an ``InvalidInput`` (400) or ``PayloadTooLarge`` (413) raised before heavy work.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from inference.config import InferenceConfig
from inference.engines.base import DISCLAIMER, Limits
from inference.engines.imaging import ct
from inference.engines.imaging.adrenal import AdrenalClassifier, bounding_crop
from inference.engines.imaging.body import body_composition
from inference.engines.imaging.bundle import run_bundle
from inference.engines.imaging.inputs import MAX_PATH_LENGTH
from inference.engines.imaging.labels import ADRENAL_STRUCTURES, TOTALSEG_V2
from inference.engines.imaging.liver import LiverSegmenter
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.measure import measure_labelmap, measure_mask
from inference.engines.imaging.nifti_io import MAX_LABEL, MAX_VOX_OFFSET
from inference.engines.imaging.schema import RESULT_SCHEMA
from inference.engines.imaging.segmentation import is_multilabel, iter_masks, load_labelmap
from inference.engines.imaging.volume import Volume, VolumeLimits
from inference.errors import NotReady

MODEL_NAME = "cdss-imaging"
# The structure whose middle slice is the L3 level, when an uploaded segmentation has it.
L3_STRUCTURE = "vertebrae_L3"
_TOTALSEG_IDS = {name: label for label, name in TOTALSEG_V2.items()}


def volume_limits_for(config: InferenceConfig) -> VolumeLimits:
    """The caps every volume and segmentation is checked against, under ``config``."""
    return VolumeLimits(max_decoded_bytes=config.imaging_max_decoded_bytes)


class ImagingEngine:
    """CT imaging engine (``inference.engines.base.Engine``)."""

    name: ClassVar[str] = "imaging"
    result_schema: ClassVar[dict[str, Any]] = RESULT_SCHEMA

    def __init__(self, config: InferenceConfig | None = None) -> None:
        self.config = config or InferenceConfig()
        self.volume_limits = volume_limits_for(self.config)
        self.model_dir: Path | None = None
        self.version: str | None = None
        self.adrenal: AdrenalClassifier | None = None
        self.liver: LiverSegmenter | None = None
        self.metrics: dict[str, Any] = {}

    @classmethod
    def limits(cls, config: InferenceConfig) -> Limits:
        """The bounds of ``POST /api/v1/imaging/analyze`` (inclusive): an upload's size, a JSON
        body's size and path length, then what a volume may be once its header is read."""
        return {
            "max_upload_bytes": config.imaging_max_upload,
            "max_body_bytes": config.max_body,
            "max_path_length": MAX_PATH_LENGTH,
            **dataclasses.asdict(volume_limits_for(config)),
            "max_vox_offset_bytes": MAX_VOX_OFFSET,
            "max_label": MAX_LABEL,
        }

    def load(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        self.adrenal = AdrenalClassifier.load(model_dir)
        # The liver U-Nets are versioned on their own (models/liver/CURRENT): converted weights,
        # not retrained with the adrenal classifier.
        liver_root = self.config.models_dir / "liver"
        current = liver_root / "CURRENT"
        self.liver = (
            LiverSegmenter.load(liver_root / current.read_text(encoding="utf-8").strip())
            if current.is_file()
            else None
        )
        metrics_file = model_dir / "metrics.json"
        if metrics_file.is_file():
            self.metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        self.model_dir = model_dir
        self.version = str(self.metrics.get("version", model_dir.name))

    @property
    def loaded(self) -> bool:
        return self.adrenal is not None

    def info(self) -> dict[str, Any]:
        headline = self.metrics.get("headline", {})
        return {
            "name": self.name,
            "model_name": MODEL_NAME,
            "model_version": self.version,
            "loaded": self.loaded,
            "tasks": [
                "ct_analysis",
                "ct_structure_measurements",
                "adrenal_mass_classification",
                "monai_bundle",
            ],
            "liver_model": (
                {"name": self.liver.name, "version": self.liver.version} if self.liver else None
            ),
            "hu_rules": {"name": ct.HU_RULES_NAME, "version": ct.HU_RULES_VERSION},
            "labels": ["normal", "mass"],
            "inputs": ["nifti", "dicom_zip"],
            "adrenal_input_size": self.adrenal.input_size if self.adrenal else None,
            "metrics": headline,
            "disclaimer": DISCLAIMER,
        }

    def _require(self) -> AdrenalClassifier:
        if self.adrenal is None:
            raise NotReady("imaging: model not loaded")
        return self.adrenal

    def analyze(
        self,
        *,
        volume_path: Path,
        segmentation_path: Path | None = None,
        bundle_dir: Path | None = None,
    ) -> dict[str, Any]:
        """Measurements and findings for one CT volume (see the module docstring)."""
        adrenal = self._require()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        volume = load_volume(Path(volume_path), self.volume_limits, "volume")
        timings["load"] = time.perf_counter() - t0

        structures: list[dict[str, Any]] = []
        glands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        findings: list[dict[str, Any]] = []
        notes: list[str] = []
        bundle_info: dict[str, str] | None = None

        if segmentation_path is not None:
            t = time.perf_counter()
            structures += self._from_segmentation(Path(segmentation_path), volume, glands)
            timings["measure"] = time.perf_counter() - t

        if bundle_dir is not None:
            t = time.perf_counter()
            bundle = _bundle_step(Path(bundle_dir), volume, glands)
            bundle_info = {"name": bundle.name, "version": bundle.version}
            structures += bundle.rows
            findings += [
                {"structure": None, "finding": cls, "probability": p, "model": bundle.source}
                for cls, p in bundle.probabilities.items()
            ]
            timings["bundle"] = time.perf_counter() - t

        t = time.perf_counter()
        ordered = {g: glands[g] for g in ADRENAL_STRUCTURES if g in glands}
        findings += adrenal.classify(ordered, volume.voxel_volume_ml)
        if not glands:
            notes.append(
                "no adrenal gland masks (adrenal_gland_left/right) given: adrenal classification "
                "skipped"
            )
        timings["classify"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        result: dict[str, Any] = {
            "volume": volume.summary(),
            "structures": structures,
            "findings": findings,
            "notes": notes,
            "model_name": MODEL_NAME,
            "model_version": self.version,
            "disclaimer": DISCLAIMER,
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
        }
        if bundle_info is not None:
            result["bundle"] = bundle_info
        return result

    def _from_segmentation(
        self,
        path: Path,
        volume: Volume,
        glands: dict[str, tuple[np.ndarray, np.ndarray]],
        l3_slices: list[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of the uploaded segmentation's structures; adrenal glands go to ``glands`` and the
        middle axial slice of ``vertebrae_L3`` to ``l3_slices``."""
        if is_multilabel(path):
            labelmap = load_labelmap(path, volume, self.volume_limits)
            rows = measure_labelmap(volume.data, labelmap, volume.voxel_volume_ml, TOTALSEG_V2)
            for row in rows:
                row["source"] = "segmentation"
            glands.update(_glands_from_labelmap(labelmap, rows, volume.affine))
            if l3_slices is not None and any(r["name"] == L3_STRUCTURE for r in rows):
                l3_slices.append(_middle_slice(labelmap == _TOTALSEG_IDS[L3_STRUCTURE]))
            return rows
        per_mask: list[dict[str, Any]] = []
        for name, mask in iter_masks(path, volume, self.volume_limits):
            measured = measure_mask(volume.data, mask, volume.voxel_volume_ml, name)
            if measured is None:
                continue
            measured["source"] = "segmentation"
            per_mask.append(measured)
            if name in ADRENAL_STRUCTURES:
                glands[name] = bounding_crop(mask, volume.affine)
            if name == L3_STRUCTURE and l3_slices is not None:
                l3_slices.append(_middle_slice(mask))
        return per_mask

    def analyze_ct(
        self,
        *,
        volume_path: Path,
        output_dir: Path,
        segmentation_path: Path | None = None,
        bundle_dir: Path | None = None,
    ) -> dict[str, Any]:
        """The CT analysis (``inference.engines.imaging.ct``): findings, measurements, models,
        and ``slices.png``, ``segmentation.nii.gz``, ``mesh.json`` and ``volume.nii.gz`` written to
        ``output_dir``."""
        adrenal = self._require()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        volume = load_volume(Path(volume_path), self.volume_limits, "volume")
        timings["load"] = time.perf_counter() - t0
        notes: list[str] = []
        uploaded: list[dict[str, Any]] = []
        glands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        l3_slices: list[int] = []
        models: list[dict[str, str]] = [
            {"name": ct.HU_RULES_NAME, "version": ct.HU_RULES_VERSION, "role": "body composition"}
        ]
        if segmentation_path is not None:
            t = time.perf_counter()
            uploaded = self._from_segmentation(Path(segmentation_path), volume, glands, l3_slices)
            timings["measure"] = time.perf_counter() - t

        bundle: _BundleStep | None = None
        if bundle_dir is not None:
            t = time.perf_counter()
            bundle = _bundle_step(Path(bundle_dir), volume, glands)
            models.append({"name": bundle.source, "version": bundle.version, "role": "bundle"})
            uploaded += bundle.rows
            timings["bundle"] = time.perf_counter() - t

        t = time.perf_counter()
        body = body_composition(volume, l3_hint=l3_slices[0] if l3_slices else None)
        timings["body_composition"] = time.perf_counter() - t

        liver_model: str | None = None
        t = time.perf_counter()
        liver = self.liver.segment(volume) if self.liver is not None else None
        if self.liver is not None:
            liver_model = f"{self.liver.name} {self.liver.version}"
            models.append(
                {
                    "name": self.liver.name,
                    "version": self.liver.version,
                    "role": "liver and liver lesions",
                }
            )
            timings["liver"] = time.perf_counter() - t
        else:
            notes.append("liver model not installed (models/liver/CURRENT): liver not segmented")

        t = time.perf_counter()
        ordered = {g: glands[g] for g in ADRENAL_STRUCTURES if g in glands}
        adrenal_findings = adrenal.classify(ordered, volume.voxel_volume_ml)
        if adrenal_findings:
            models.append(
                {"name": "adrenal-shape-cnn", "version": str(self.version), "role": "adrenal mass"}
            )
        else:
            notes.append(
                "no adrenal gland masks (adrenal_gland_left/right) given: adrenal classification "
                "skipped"
            )
        timings["classify"] = time.perf_counter() - t

        parts = ct.CtParts(volume=volume, body=body, liver=liver)
        labels = ct.own_labelmap(parts)
        own = ct.own_structures(volume, labels, self.liver.name if self.liver else None)
        source = volume.meta.get("series_description") or volume.source_format
        artifacts, drawn = ct.write_artifacts(
            parts,
            labels,
            Path(output_dir),
            title="CT analysis: the system's own segmentation",
            subtitle=f"{source}; {volume.shape[0]}x{volume.shape[1]}x{volume.shape[2]} voxels",
        )
        timings.update(drawn)
        timings["total"] = time.perf_counter() - t0
        result: dict[str, Any] = {
            "volume": {**volume.summary(), **ct.volume_meta(volume)},
            "labels": [dataclasses.asdict(label) for label in ct.CT_LABELS],
            "structures": own + uploaded,
            "body_composition": body.summary(),
            "liver": ct.liver_summary(liver, self.liver),
            "adrenal": adrenal_findings,
            "findings": ct.findings(parts, own, liver_model)
            + (ct.bundle_findings(bundle.source, bundle.probabilities) if bundle else []),
            "models": models,
            "artifacts": artifacts,
            "notes": notes,
            "model_name": MODEL_NAME,
            "model_version": self.version,
            "disclaimer": DISCLAIMER,
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
        }
        if bundle is not None:
            result["bundle"] = {"name": bundle.name, "version": bundle.version}
        return result


def _glands_from_labelmap(
    labelmap: np.ndarray, rows: list[dict[str, Any]], affine: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Adrenal gland masks cut to their bounding boxes."""
    return {
        r["name"]: bounding_crop(labelmap == r["label"], affine)
        for r in rows
        if r["name"] in ADRENAL_STRUCTURES
    }


@dataclass(frozen=True)
class _BundleStep:
    """What a MONAI bundle added to an analysis: measured label rows and class probabilities."""

    name: str
    version: str
    rows: list[dict[str, Any]]
    probabilities: dict[str, float]

    @property
    def source(self) -> str:
        return f"bundle:{self.name}"


def _bundle_step(
    bundle_dir: Path, volume: Volume, glands: dict[str, tuple[np.ndarray, np.ndarray]]
) -> _BundleStep:
    """Runs the bundle on ``volume``; its adrenal glands go to ``glands`` unless the uploaded
    segmentation already gave them."""
    out = run_bundle(bundle_dir, volume)
    rows: list[dict[str, Any]] = []
    if out.labelmap is not None:
        rows = measure_labelmap(volume.data, out.labelmap, volume.voxel_volume_ml, out.label_names)
        for row in rows:
            row["source"] = f"bundle:{out.name}"
        found = _glands_from_labelmap(out.labelmap, rows, volume.affine)
        glands.update({k: v for k, v in found.items() if k not in glands})
    return _BundleStep(out.name, out.version, rows, dict(out.class_probabilities or {}))


def _middle_slice(mask: np.ndarray) -> int:
    """The middle axial (third-axis) index of the slices ``mask`` touches."""
    present = np.flatnonzero(mask.any(axis=(0, 1)))
    return int((present[0] + present[-1]) // 2)
