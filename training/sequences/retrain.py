"""Run-time retraining, launched by the inference server as a subprocess.

``python -m training.sequences.retrain --training-data-path DIR --out-root var/models/sequence
--epochs N --batch-size N`` trains a new version from a folder in the layout of the shared datasets,
reports progress in ``<out-root>/retrain_status.json`` and promotes the new version (writes
``<out-root>/CURRENT``) only when none of its held-out headline metrics is worse than the active
version's. The server reloads the engine once the state is ``completed``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from training.sequences.pipeline import TrainConfig, train

STATUS_FILE = "retrain_status.json"
# Small differences between two trainings on the same data are noise, not regressions.
TOLERANCE = 0.002


def headline(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The metrics compared for promotion (higher is better)."""
    task3 = metrics.get("task3", {}).get("classes_with_20_or_more_unique", {})
    return {
        "task1_roc_auc": metrics.get("task1", {}).get("roc_auc"),
        "task2_macro_f1": metrics.get("task2", {}).get("macro_f1"),
        "task3_top1_accuracy": task3.get("top1_accuracy"),
    }


def not_worse(new: dict[str, Any], active: dict[str, Any] | None) -> bool:
    """True when every headline metric of ``new`` is at least the active one's (less tolerance)."""
    if not active:
        return True
    new_h, old_h = headline(new), headline(active)
    for key, old in old_h.items():
        if old is None:
            continue
        value = new_h.get(key)
        if value is None or value < old - TOLERANCE:
            return False
    return True


def active_metrics(out_root: Path, fallback_root: Path | None) -> dict[str, Any] | None:
    """metrics.json of the version that is active now (run-time root first, then committed)."""
    for root in (out_root, fallback_root):
        if root is None:
            continue
        current = root / "CURRENT"
        if current.exists():
            path = root / current.read_text().strip() / "metrics.json"
            if path.exists():
                return dict(json.loads(path.read_text()))
    return None


def write_status(out_root: Path, **fields: Any) -> None:
    """Atomically replace the status file."""
    out_root.mkdir(parents=True, exist_ok=True)
    path = out_root / STATUS_FILE
    tmp = path.with_suffix(".tmp")
    fields["updated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    tmp.write_text(json.dumps(fields, indent=1, sort_keys=True))
    os.replace(tmp, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.sequences.retrain")
    parser.add_argument("--training-data-path", type=Path, required=True)
    parser.add_argument("--out-root", type=Path, default=Path("var/models/sequence"))
    parser.add_argument("--committed-root", type=Path, default=Path("models/sequence"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--version", default=None)
    parser.add_argument("--max-records", type=int, default=None, help="subsample (smoke runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_root: Path = args.out_root
    version = args.version or "seq-retrain-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    base = {"state": "running", "version": version, "metrics": None, "promoted": False}
    write_status(out_root, progress=0.0, message="starting", **base)
    try:
        if args.epochs < 1 or args.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if not args.training_data_path.is_dir():
            raise FileNotFoundError(f"training data folder not found: {args.training_data_path}")

        def report(fraction: float, message: str) -> None:
            write_status(out_root, progress=round(min(fraction, 0.99), 3), message=message, **base)

        config = TrainConfig(
            datasets_dir=args.training_data_path,
            out_root=out_root,
            version=version,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            max_records=args.max_records,
            update_current=False,
        )
        active = active_metrics(out_root, args.committed_root)
        metrics = train(config, report)
        promoted = not_worse(metrics, active)
        if promoted:
            tmp = out_root / "CURRENT.tmp"
            tmp.write_text(version + "\n")
            os.replace(tmp, out_root / "CURRENT")
        message = "promoted" if promoted else "kept the active version: held-out metrics worse"
        write_status(
            out_root,
            state="completed",
            progress=1.0,
            message=message,
            version=version,
            metrics=headline(metrics),
            promoted=promoted,
        )
        return 0
    except Exception as exc:  # every failure must reach the status file the server polls
        write_status(
            out_root,
            state="failed",
            progress=1.0,
            message=f"{type(exc).__name__}: {exc}",
            version=version,
            metrics=None,
            promoted=False,
        )
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
