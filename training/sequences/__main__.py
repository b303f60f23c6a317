"""``python -m training.sequences``: train every sequence model end to end and write a version."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from training.sequences.data import default_datasets_dir
from training.sequences.pipeline import TrainConfig, default_version, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.sequences", description=__doc__)
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--out-root", type=Path, default=Path("models/sequence"))
    parser.add_argument("--version", default=None, help="default: the next free seq-<y>.<m>.<n>")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-records", type=int, default=None, help="subsample (smoke runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    version = args.version or default_version(args.out_root)
    np.seterr(over="ignore")

    def report(fraction: float, message: str) -> None:
        print(f"[{fraction:5.0%}] {message}", flush=True)

    config = TrainConfig(
        datasets_dir=args.datasets_dir,
        out_root=args.out_root,
        version=version,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        max_records=args.max_records,
    )
    metrics = train(config, report)
    summary = {
        "version": version,
        "task1_roc_auc": metrics.get("task1", {}).get("roc_auc"),
        "task2_macro_f1": metrics.get("task2", {}).get("macro_f1"),
        "task3_top1_20plus": metrics.get("task3", {})
        .get("classes_with_20_or_more_unique", {})
        .get("top1_accuracy"),
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
