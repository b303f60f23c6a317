"""The run behind ``python -m training.imaging``: fit every (size, seed), evaluate, write."""

from __future__ import annotations

import json
import logging
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inference.engines.imaging.adrenal import CONFIG_FILE
from inference.engines.imaging.network import predict_proba, to_model_input
from training.imaging.data import (
    DATASET_REL,
    OFFICIAL_MD5,
    Split,
    datasets_dir,
    file_md5,
    load_adrenal,
)
from training.imaging.fit import FitConfig, fit
from training.imaging.metrics import reliability, summarize
from training.imaging.report import write_evaluation, write_model_card

log = logging.getLogger(__name__)

MEDMNIST_V2_BEST = {
    "auc": 0.839,
    "auc_method": "ResNet-18+ACS",
    "acc": 0.802,
    "acc_method": "auto-sklearn",
}


def _mean_sd(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0}


def _fit_one(
    size: int,
    seed: int,
    width: int,
    epochs: int,
    x: dict[str, torch.Tensor],
    y: dict[str, np.ndarray],
    out_dir: Path,
) -> dict[str, Any]:
    """Train one (size, seed), save its weights, and score val and test (with TTA)."""
    cfg = FitConfig(input_size=size, width=width, epochs=epochs, seed=seed)
    t0 = time.perf_counter()
    model, history = fit(cfg, x["train"], y["train"], x["val"], y["val"])
    seconds = time.perf_counter() - t0
    p_val = predict_proba(model, x["val"], tta=True)
    p_test = predict_proba(model, x["test"], tta=True)
    weights = f"adrenal_{size}_seed{seed}.pt"
    torch.save(model.state_dict(), out_dir / weights)
    out = {
        "seed": seed,
        "weights": weights,
        "train_seconds": round(seconds, 1),
        "val": summarize(y["val"], p_val, with_ci=False),
        "test": summarize(y["test"], p_test, with_ci=False),
        "history": history,
        "p_val": [round(float(p), 6) for p in p_val],
        "p_test": [round(float(p), 6) for p in p_test],
    }
    log.info("size %d seed %d: val %s test %s", size, seed, out["val"], out["test"])
    return out


def _wall_seconds(out_dir: Path, trained_now: bool, seconds: float) -> float | None:
    """This run's wall time; a run that only reused saved models keeps the recorded one."""
    if trained_now:
        return round(seconds, 1)
    try:
        old = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
        recorded: float | None = old["training"]["wall_seconds"]
        return recorded
    except (OSError, ValueError, KeyError):
        return None


def run(
    *,
    version: str,
    out_root: Path,
    sizes: list[int],
    seeds: dict[int, list[int]],
    epochs: int,
    width: int,
    limit_train: int = 0,
    set_current: bool = True,
    resume: bool = False,
    n_boot: int = 2000,
    limit_eval: int = 0,
    splits: dict[str, Split] | None = None,
) -> dict[str, Any]:
    """Train and evaluate every (size, seed), then write the version folder.

    ``limit_train`` / ``limit_eval`` (first N cases of train / of val and test) and ``splits``
    (already loaded data) exist for smoke tests only; the shipped run uses neither.
    """
    npz = datasets_dir() / DATASET_REL
    md5 = file_md5(npz)
    if md5 != OFFICIAL_MD5:
        log.warning("dataset MD5 %s differs from the official %s", md5, OFFICIAL_MD5)
    splits = dict(splits) if splits is not None else load_adrenal(npz)
    for name, limit in (("train", limit_train), ("val", limit_eval), ("test", limit_eval)):
        if limit:
            s = splits[name]
            splits[name] = Split(s.images[:limit], s.labels[:limit])
    y = {k: s.labels for k, s in splits.items()}
    out_dir = out_root / version
    out_dir.mkdir(parents=True, exist_ok=True)

    per_size: dict[str, Any] = {}
    t_start = time.perf_counter()
    trained_now = False
    for size in sizes:
        x: dict[str, torch.Tensor] = {}
        runs = []
        probs_val, probs_test = [], []
        for seed in seeds.get(size, [0]):
            run_file = out_dir / "runs" / f"adrenal_{size}_seed{seed}.json"
            if resume and run_file.is_file():
                saved = json.loads(run_file.read_text(encoding="utf-8"))
                log.info("size %d seed %d: reusing %s", size, seed, run_file)
            else:
                if not x:
                    x.update({k: to_model_input(s.images, size) for k, s in splits.items()})
                saved = _fit_one(size, seed, width, epochs, x, y, out_dir)
                trained_now = True
                run_file.parent.mkdir(exist_ok=True)
                run_file.write_text(json.dumps(saved) + "\n", encoding="utf-8")
            p_val, p_test = np.asarray(saved.pop("p_val")), np.asarray(saved.pop("p_test"))
            runs.append(saved)
            probs_val.append(p_val)
            probs_test.append(p_test)
        ens_val = np.mean(probs_val, axis=0)
        ens_test = np.mean(probs_test, axis=0)
        per_size[str(size)] = {
            "config": FitConfig(input_size=size, width=width, epochs=epochs).as_dict(),
            "runs": runs,
            "seeds_test": {
                m: _mean_sd([r["test"][m] for r in runs]) for m in ("auc", "acc", "brier", "ece")
            },
            "seeds_val": {m: _mean_sd([r["val"][m] for r in runs]) for m in ("auc", "acc")},
            "ensemble_val": summarize(y["val"], ens_val, with_ci=False),
            "ensemble_test": summarize(y["test"], ens_test, n_boot=n_boot),
            "ensemble_test_reliability": reliability(y["test"], ens_test),
        }
    # The engine's size is chosen on validation only.
    chosen = max(per_size, key=lambda s: per_size[s]["ensemble_val"]["auc"])
    engine_cfg = {
        "input_size": int(chosen),
        "width": width,
        "dropout": FitConfig().dropout,
        "threshold": 0.5,
        "members": [r["weights"] for r in per_size[chosen]["runs"]],
        "tta": "mean over 8 flips",
        "cube_mm": 64,
        "axes": "RAS (assumed AdrenalMNIST3D axis order; flips covered by test-time augmentation)",
    }
    (out_dir / CONFIG_FILE).write_text(json.dumps(engine_cfg, indent=2) + "\n", encoding="utf-8")
    chosen_test = per_size[chosen]["ensemble_test"]
    metrics: dict[str, Any] = {
        "version": version,
        "model_name": "cdss-imaging",
        "task": "AdrenalMNIST3D binary: 0 normal adrenal gland, 1 adrenal mass (hyperplasia/mass)",
        "dataset": {
            "path": str(DATASET_REL),
            "md5": md5,
            "counts": {k: {"n": len(v), "mass": int(v.sum())} for k, v in y.items()},
        },
        "engine_model": {"input_size": int(chosen), "members": engine_cfg["members"]},
        "headline": {
            "input_size": int(chosen),
            "test_auc": round(chosen_test["auc"], 4),
            "test_auc_ci95": [round(v, 4) for v in chosen_test["ci95"]["auc"]],
            "test_acc": round(chosen_test["acc"], 4),
            "test_acc_ci95": [round(v, 4) for v in chosen_test["ci95"]["acc"]],
            "test_brier": round(chosen_test["brier"], 4),
            "test_ece": round(chosen_test["ece"], 4),
        },
        "medmnist_v2_best_28": MEDMNIST_V2_BEST,
        "sizes": per_size,
        "training": {
            "seeds": {str(k): v for k, v in seeds.items() if k in sizes},
            "epochs": epochs,
            "threads": torch.get_num_threads(),
            "limit_train": limit_train,
            "limit_eval": limit_eval,
            "wall_seconds": _wall_seconds(out_dir, trained_now, time.perf_counter() - t_start),
            "train_seconds_total": round(
                sum(r["train_seconds"] for s in per_size.values() for r in s["runs"]), 1
            ),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    write_evaluation(out_dir / "EVALUATION.md", metrics)
    write_model_card(out_dir / "MODEL_CARD.md", metrics)
    if set_current:
        (out_root / "CURRENT").write_text(version + "\n", encoding="utf-8")
    log.info("wrote %s (engine size %s)", out_dir, chosen)
    return metrics
