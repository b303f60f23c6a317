"""Engine-level latency and memory of one sequence prediction (a 600-residue protein).

Loads the active sequence model, then times ``predict_protein`` sequentially (one thread), with
8 concurrent client threads in one process, and with 8 clients spread over 2 worker processes (as
a 2-worker server on 2 cores), reporting p50/p95/p99 latency, throughput, load time and memory.
The protein is the held-out test protein closest to 600 residues, cut to 600.

    .venv/bin/python bench/sequence_engine_latency.py [--calls 400] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._proc import rss_mb  # noqa: E402
from inference.engines.sequence import SequenceEngine  # noqa: E402
from training.sequences.data import default_datasets_dir, load_records  # noqa: E402

LENGTH = 600


def pick_protein(version_dir: Path, datasets_dir: Path) -> tuple[str, str]:
    """The held-out test protein closest to 600 residues (cut to 600 when longer)."""
    test_ids = set((version_dir / "test_ids.txt").read_text().split())
    best: tuple[int, str, str] | None = None
    for rec in load_records(datasets_dir):
        if rec.ref_id in test_ids and len(rec.sequence) >= LENGTH:
            gap = len(rec.sequence) - LENGTH
            if best is None or gap < best[0]:
                best = (gap, rec.ref_id, rec.sequence[:LENGTH])
    assert best is not None, "no test protein of 600+ residues"
    return best[1], best[2]


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


def _worker(args: tuple[Path, str, int, int]) -> list[float]:
    """One server-like worker process: its own engine, ``threads`` concurrent clients."""
    model_dir, protein, threads, calls = args
    engine = SequenceEngine()
    engine.load(model_dir)
    engine.predict_protein(protein)

    def one(_i: int) -> float:
        start = time.perf_counter()
        engine.predict_protein(protein)
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(calls)))


def multi_process(model_dir: Path, protein: str, processes: int, clients: int, calls: int) -> dict:
    """8 clients spread over ``processes`` worker processes, as a multi-worker server runs."""
    per = [(model_dir, protein, clients // processes, calls // processes)] * processes
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        t = time.perf_counter()
        parts = pool.map(_worker, per)
        wall = time.perf_counter() - t
    latencies = [x for part in parts for x in part]
    return {"calls": len(latencies), **percentiles(latencies),
            "throughput_per_s_incl_worker_start": round(len(latencies) / wall, 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models" / "sequence")
    parser.add_argument("--datasets-dir", type=Path, default=default_datasets_dir())
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (2 cores)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out" / "sequence_latency.json"
    )
    args = parser.parse_args()

    rss_before = rss_mb()
    engine = SequenceEngine()
    t = time.perf_counter()
    engine.load(args.model_dir)
    load_seconds = time.perf_counter() - t
    rss_loaded = rss_mb()
    assert engine.version_dir is not None
    protein_id, protein = pick_protein(engine.version_dir, args.datasets_dir)
    engine.predict_protein(protein)  # warm-up

    single: list[float] = []
    for _ in range(args.calls // 2):
        t = time.perf_counter()
        engine.predict_protein(protein)
        single.append(time.perf_counter() - t)

    def one(_i: int) -> float:
        start = time.perf_counter()
        engine.predict_protein(protein)
        return time.perf_counter() - start

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        concurrent = list(pool.map(one, range(args.calls)))
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    spread = multi_process(args.model_dir, protein, args.processes, args.threads, args.calls)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "model_version": engine.info()["version"],
        "protein": f"{protein_id} (first {LENGTH} residues)",
        "load_seconds": round(load_seconds, 2),
        "rss_mb_before_load": round(rss_before, 1),
        "rss_mb_after_load": round(rss_loaded, 1),
        "peak_rss_mb": round(peak, 1),
        "single_thread": {"calls": len(single), **percentiles(single)},
        f"{args.threads}_threads": {
            "calls": len(concurrent),
            **percentiles(concurrent),
            "throughput_per_s": round(len(concurrent) / wall, 1),
        },
        f"{args.threads}_clients_over_{args.processes}_processes": spread,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
