"""``python -m training.imaging``: train, evaluate and write the adrenal-mass classifier artifacts.

For each input size (28^3 = MedMNIST v2 comparison, 64^3 = native) and seed: train on the official
train split, monitor on val, keep the final epoch, evaluate once on test. The ensemble of seeds at
the size with the better validation AUC becomes the engine's classifier.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch

from training.imaging.data import REPO_ROOT
from training.imaging.pipeline import run

DEFAULT_VERSION = "img-2026.11.1"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m training.imaging", description=__doc__)
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "imaging")
    ap.add_argument("--sizes", type=int, nargs="+", default=[28, 64])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument(
        "--seeds-64",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="seeds for the 64^3 model (about 1.5x the cost of 28^3 per epoch on CPU)",
    )
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit-train", type=int, default=0, help="smoke runs: use N train cases")
    ap.add_argument("--no-current", action="store_true", help="do not update CURRENT")
    ap.add_argument(
        "--resume", action="store_true", help="reuse finished (size, seed) runs of this version"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    run(
        version=args.version,
        out_root=args.out,
        sizes=args.sizes,
        seeds={28: args.seeds, 64: args.seeds_64},
        epochs=args.epochs,
        width=args.width,
        limit_train=args.limit_train,
        set_current=not args.no_current,
        resume=args.resume,
    )
    logging.info("done in %.1f s", time.perf_counter() - t0)


if __name__ == "__main__":
    main()
