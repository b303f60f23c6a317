"""Writing one omics model version: the folder layout the inference engine reads.

``<out>/<version>/rosmap/model.json``, ``<out>/<version>/tcga_paad/model.json`` (plain JSON, no
pickles), ``metrics.json`` (headline numbers, read by the engine's ``info()``), ``evaluation.json``
(everything measured), ``EVALUATION.md`` and ``MODEL_CARD.md``; then ``<out>/CURRENT`` names the
version. The version folder is written beside its final place and renamed in, so a server never
sees half a version.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.omics.report import evaluation_markdown, model_card_markdown


def headline_metrics(rosmap_eval: dict[str, Any], paad_eval: dict[str, Any]) -> dict[str, Any]:
    summary = rosmap_eval["summary"]
    return {
        "rosmap": {
            "test_split": "MOGONET ROSMAP test (n=106)",
            "seeds": len(rosmap_eval["per_seed"]),
            **{f"{m}_mean": summary[m]["mean"] for m in ("accuracy", "f1", "roc_auc", "brier")},
            **{f"{m}_sd": summary[m]["sd"] for m in ("accuracy", "f1", "roc_auc", "brier")},
            "shipped_model": rosmap_eval["shipped_test"],
            "shipped_model_ci95": rosmap_eval["shipped_test_ci95"],
            "ece": rosmap_eval["ece_test"],
        },
        "tcga_paad": {
            "test_split": "paad-survival-bench 100/45 split (test n=45)",
            "test_cindex": paad_eval["shipped_test_cindex"],
            "test_cindex_ci95": paad_eval["shipped_test_cindex_ci95"],
            "test_cindex_over_seeds": paad_eval["summary"]["test_cindex"],
            "repeated_cv_cindex_mean": paad_eval["repeated_cv"]["cindex"]["mean"],
            "repeated_cv_cindex_sd": paad_eval["repeated_cv"]["cindex"]["sd"],
            "repeated_cv_scheme": paad_eval["repeated_cv"]["scheme"],
            "test_logrank_p": paad_eval["test_risk_groups"]["logrank_p"],
        },
    }


def _dump(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def write_version(
    out: Path,
    version: str,
    *,
    rosmap_artifact: dict[str, Any],
    rosmap_eval: dict[str, Any],
    paad_artifact: dict[str, Any],
    paad_eval: dict[str, Any],
    quick: bool,
    seconds: float,
    set_current: bool = True,
    paad_only: bool = False,
) -> Path:
    """Write the version folder (replacing an older one of the same name) and CURRENT."""
    out = Path(out)
    final = out / version
    staging = out / f".{version}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    meta = {
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_seconds": round(seconds, 1),
        "quick_smoke_run": quick,
        "command": "python -m training.omics"
        + (" --quick" if quick else "")
        + (" --paad-only" if paad_only else ""),
    }
    _dump(staging / "rosmap" / "model.json", rosmap_artifact)
    _dump(staging / "tcga_paad" / "model.json", paad_artifact)
    _dump(staging / "metrics.json", {**meta, **headline_metrics(rosmap_eval, paad_eval)})
    _dump(staging / "evaluation.json", {**meta, "rosmap": rosmap_eval, "tcga_paad": paad_eval})
    (staging / "EVALUATION.md").write_text(
        evaluation_markdown(meta, rosmap_eval, paad_eval), encoding="utf-8"
    )
    (staging / "MODEL_CARD.md").write_text(
        model_card_markdown(meta, rosmap_artifact, rosmap_eval, paad_artifact, paad_eval),
        encoding="utf-8",
    )
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    if set_current:
        tmp = out / ".CURRENT.tmp"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, out / "CURRENT")
    return final


def load_rosmap_results(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ROSMAP artifact and evaluation of an existing version folder (for ``--paad-only``)."""
    folder = Path(folder)
    if not (folder / "evaluation.json").is_file():
        raise FileNotFoundError(f"{folder}: no version to keep the ROSMAP model from")
    stored = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    artifact = json.loads((folder / "rosmap" / "model.json").read_text(encoding="utf-8"))
    return artifact, stored["rosmap"]


def rerender_reports(folder: Path) -> None:
    """Rewrite EVALUATION.md and MODEL_CARD.md of a version from its JSON files (no training)."""
    folder = Path(folder)
    stored = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    meta = {
        k: stored[k]
        for k in ("version", "trained_at", "training_seconds", "quick_smoke_run", "command")
    }
    rosmap_artifact = json.loads((folder / "rosmap" / "model.json").read_text(encoding="utf-8"))
    paad_artifact = json.loads((folder / "tcga_paad" / "model.json").read_text(encoding="utf-8"))
    (folder / "EVALUATION.md").write_text(
        evaluation_markdown(meta, stored["rosmap"], stored["tcga_paad"]), encoding="utf-8"
    )
    (folder / "MODEL_CARD.md").write_text(
        model_card_markdown(
            meta, rosmap_artifact, stored["rosmap"], paad_artifact, stored["tcga_paad"]
        ),
        encoding="utf-8",
    )
