"""``python -m training.omics``: train and evaluate both omics models, write a model version.

Options: ``--version`` (default ``omics-2026.11.0``), ``--out`` (default ``models/omics``),
``--seeds`` (default 0-4), ``--quick`` (one seed, a tiny grid, fewer CV repeats: a smoke run whose
numbers are not the reported ones), ``--no-current`` (do not point ``CURRENT`` at the new
version), ``--render-only`` (rewrite the Markdown reports of an existing version from its JSON
files, after a change to ``report.py``; no training).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from training.omics import rosmap, tcga_paad
from training.omics.artifacts import load_rosmap_results, rerender_reports, write_version
from training.omics.data import REPO_ROOT, load_paad, load_rosmap

log = logging.getLogger("training.omics")
DEFAULT_VERSION = "omics-2026.11.0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.omics", description=__doc__)
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "omics")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-current", action="store_true")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--paad-only", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.render_only:
        rerender_reports(args.out / args.version)
        log.info("rewrote the reports of %s", args.out / args.version)
        return 0

    seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    if args.quick:
        seeds = seeds[:1]
    rounds = 200 if args.quick else 2000
    started = time.monotonic()
    if args.paad_only:
        rosmap_artifact, rosmap_eval = load_rosmap_results(args.out / args.version)
        if rosmap_artifact.get("format") != rosmap.FORMAT:
            # A v1 file: same weights, plus the input bounds learnt from the training split.
            rosmap_artifact = rosmap.add_input_bounds(rosmap_artifact, load_rosmap())
        log.info("ROSMAP: kept from %s", args.out / args.version)
    else:
        log.info("ROSMAP: seeds %s", seeds)
        rosmap_data = load_rosmap()
        if args.quick:
            rosmap_data = rosmap.quick_subset(rosmap_data)
        rosmap_artifact, rosmap_eval = rosmap.run(
            rosmap_data,
            seeds,
            c_grid=rosmap.QUICK_C_GRID if args.quick else rosmap.C_GRID,
            bootstrap_rounds=rounds,
        )
        log.info("ROSMAP done in %.0f s: %s", time.monotonic() - started, rosmap_eval["summary"])

    log.info("TCGA-PAAD: seeds %s", seeds)
    grid = tcga_paad.QUICK_GRID if args.quick else tcga_paad.Grid()
    paad_artifact, paad_eval = tcga_paad.run(
        load_paad(),
        seeds,
        grid,
        outer_repeats=1 if args.quick else 5,
        bootstrap_rounds=rounds,
        ablation_repeats=0 if args.quick else 2,
    )
    log.info(
        "TCGA-PAAD done: test C %.3f, repeated CV %s",
        paad_eval["shipped_test_cindex"],
        paad_eval["repeated_cv"]["cindex"],
    )
    folder = write_version(
        args.out,
        args.version,
        rosmap_artifact=rosmap_artifact,
        rosmap_eval=rosmap_eval,
        paad_artifact=paad_artifact,
        paad_eval=paad_eval,
        quick=args.quick,
        paad_only=args.paad_only,
        seconds=time.monotonic() - started,
        set_current=not args.no_current,
    )
    log.info("wrote %s in %.0f s", folder, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
