"""Writing EVALUATION.md and MODEL_CARD.md from the metrics of a training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.engines.base import DISCLAIMER


def _ci(m: dict[str, Any], key: str) -> str:
    lo, hi = m["ci95"][key]
    return f"{m[key]:.3f} [{lo:.3f}, {hi:.3f}]"


def _ms(d: dict[str, float], n: int = 2) -> str:
    return f"{d['mean']:.3f} ± {d['sd']:.3f}" if n > 1 else f"{d['mean']:.3f} (1 seed)"


def write_evaluation(path: Path, metrics: dict[str, Any]) -> None:
    best = metrics["medmnist_v2_best_28"]
    counts = metrics["dataset"]["counts"]
    lines = [
        f"# Evaluation: adrenal-mass classifier {metrics['version']}",
        "",
        f"{DISCLAIMER}",
        "",
        "Data: AdrenalMNIST3D (MedMNIST v2), official splits: "
        + ", ".join(f"{k} {v['n']} ({v['mass']} mass)" for k, v in counts.items())
        + f". File MD5 `{metrics['dataset']['md5']}`.",
        "Hyper-parameters were fixed on train/val only; the test split was scored once per model.",
        "Decision threshold 0.5 on the predicted probability (as MedMNIST's argmax).",
        "Every probability is the mean over 8 flip views (test-time augmentation).",
        "",
        "## Test results",
        "",
        "| input | seeds: AUC (mean ± sd) | seeds: ACC | ensemble AUC [95% CI] "
        "| ensemble ACC [95% CI] | Brier | ECE |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, s in metrics["sizes"].items():
        e = s["ensemble_test"]
        n = len(s["runs"])
        lines.append(
            f"| {size}^3 | {_ms(s['seeds_test']['auc'], n)} | {_ms(s['seeds_test']['acc'], n)} | "
            f"{_ci(e, 'auc')} | {_ci(e, 'acc')} | {e['brier']:.3f} | {e['ece']:.3f} |"
        )
    lines += [
        "",
        f"MedMNIST v2 best published at 28^3: AUC {best['auc']} ({best['auc_method']}), "
        f"ACC {best['acc']} ({best['acc_method']}). Majority-class accuracy on test: "
        f"{1 - counts['test']['mass'] / counts['test']['n']:.3f}.",
        "CIs: percentile bootstrap over test cases (2,000 resamples). The ensemble averages the "
        "seeds' probabilities; 'seeds' rows are single models.",
    ]
    if "28" in metrics["sizes"]:
        s28 = metrics["sizes"]["28"]
        auc_ok = s28["ensemble_test"]["auc"] > best["auc"]
        acc_ok = s28["ensemble_test"]["acc"] > best["acc"]
        lines += [
            "",
            f"Target at 28^3 (above AUC {best['auc']} and ACC {best['acc']}): ensemble AUC "
            f"{s28['ensemble_test']['auc']:.3f} ({'met' if auc_ok else 'not met'}), ACC "
            f"{s28['ensemble_test']['acc']:.3f} ({'met' if acc_ok else 'not met'}); single seeds "
            f"AUC {_ms(s28['seeds_test']['auc'])}, ACC {_ms(s28['seeds_test']['acc'])}. The lower "
            "CI bounds show how much of that margin the 298-case test set can confirm.",
        ]
    lines += [
        "",
        "## Per seed",
        "",
        "| input | seed | val AUC | test AUC | test ACC | test Brier | train s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, s in metrics["sizes"].items():
        for r in s["runs"]:
            lines.append(
                f"| {size}^3 | {r['seed']} | {r['val']['auc']:.3f} | {r['test']['auc']:.3f} | "
                f"{r['test']['acc']:.3f} | {r['test']['brier']:.3f} | {r['train_seconds']} |"
            )
    eng = metrics["engine_model"]["input_size"]
    lines += [
        "",
        f"## Calibration of the engine model ({eng}^3 ensemble, test)",
        "",
        "| predicted bin | n | mean predicted | observed mass rate |",
        "| --- | --- | --- | --- |",
    ]
    for row in metrics["sizes"][str(eng)]["ensemble_test_reliability"]:
        lines.append(
            f"| {row['bin_low']:.1f}-{row['bin_high']:.1f} | {row['count']} | "
            f"{row['mean_predicted']:.3f} | {row['observed_rate']:.3f} |"
        )
    t = metrics["training"]
    lines += [
        "",
        f"Training: {t['epochs']} epochs, seeds per input size {t['seeds']}, "
        f"{t['threads']} CPU threads, {t['wall_seconds']} s wall in all (training alone "
        f"{t['train_seconds_total']} s; torch {t['torch']}).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_model_card(path: Path, metrics: dict[str, Any]) -> None:
    h = metrics["headline"]
    eng = metrics["engine_model"]
    n = len(eng["members"])
    width = metrics["sizes"][str(h["input_size"])]["config"]["width"]
    members = (
        f"a single model ({eng['members'][0]})"
        if n == 1
        else f"an ensemble of {n} seeds ({', '.join(eng['members'])})"
    )
    text = f"""# Model card: CDSS imaging, adrenal-mass classifier ({metrics["version"]})

**{DISCLAIMER}** Not cleared or approved for clinical use.

## What it does
Given the binary mask of one adrenal gland (from a CT segmentation such as TotalSegmentator's
`adrenal_gland_left` / `adrenal_gland_right`), it outputs the probability that the gland shape is
that of an adrenal mass / hyperplasia rather than a normal gland. It sees the mask's **shape only**,
not CT intensities. The engine also measures structures (volume in mL, HU mean and SD) from a
segmentation; those measurements are arithmetic, not learned.

## Model
A small 3D CNN (`inference/engines/imaging/network.py`, `AdrenalNet`, base width {width}) over
a 64 mm cube at 1 mm centred on the gland, fed at {h["input_size"]}^3: {members}; each
probability is averaged over 8 flip views. Trained with `python -m training.imaging` (AdamW,
one-cycle LR, BCE loss, random flips and shifts), on CPU. The input size of the engine model
was chosen by validation AUC.

## Data and terms
- AdrenalMNIST3D 64^3 from MedMNIST v2 / MedMNIST+ (Yang J. et al., Sci Data 10:41, 2023),
  Zhongshan Hospital, Fudan University; licence CC BY 4.0. 1,584 adrenal shape masks from CT,
  official splits 1,188 / 98 / 298 (train / val / test), about 22% masses.
- The file used is the unmodified release file (MD5 `{metrics["dataset"]["md5"]}`), read from the
  shared datasets folder; it is not redistributed here.

## Performance (test split, scored once)
- Engine model ({h["input_size"]}^3): AUC {h["test_auc"]:.3f} (95% CI
  {h["test_auc_ci95"][0]:.3f}-{h["test_auc_ci95"][1]:.3f}), accuracy {h["test_acc"]:.3f} (95% CI
  {h["test_acc_ci95"][0]:.3f}-{h["test_acc_ci95"][1]:.3f}) at threshold 0.5, Brier
  {h["test_brier"]:.3f}, ECE {h["test_ece"]:.3f}.
- MedMNIST v2 best published at 28^3: AUC 0.839, ACC 0.802. Full tables, per-seed results and
  calibration bins: `EVALUATION.md`; raw numbers: `metrics.json`.

## Limits
- Shape only, one hospital's data, small test set (298 cases, 69 masses): CIs are wide.
- Trained on masks made from the dataset's own CT and segmentation process. Masks from another
  segmenter, or from thick slices (e.g. 3 mm TotalSegmentator output, resampled to 1 mm here), have
  coarser shapes: expect lower accuracy and worse calibration; not validated on such input.
- The axis order of AdrenalMNIST3D relative to patient anatomy is not documented; the engine assumes
  RAS (the thinnest gland extent lies on the first axis in both, which supports that), and flips are
  averaged out by test-time augmentation.
- "Mass" covers hyperplasia and masses as labelled in the dataset; it does not tell adenoma from
  carcinoma, pheochromocytoma or metastasis, and says nothing about function.
- No gland mask, or one under 0.2 mL, gives no probability.

## MONAI bundles
The same engine runs hospital-supplied MONAI bundles (Model Zoo layout). Those models are not
covered by this card: each bundle's own metadata and licence apply, and the hospital is
responsible for validating it.

## Intended use
Research and decision support by qualified clinicians, as a pointer for review of the adrenal
region. Never as a diagnosis or to rule out disease.
"""
    path.write_text(text, encoding="utf-8")
