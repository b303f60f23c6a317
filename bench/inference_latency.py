"""Single-prediction latency of the inference server over HTTP, at 1 and 8 concurrent clients.

Starts a real server process (gunicorn as in production by default, or the dev server), sends
``POST /api/v1/predict`` for one real 600-residue protein from the shared datasets, and reports
p50 / p90 / p99 / max latency and throughput per concurrency level. Each client thread keeps one
keep-alive connection and sends its requests back to back. Clients run on the same machine as the
server (they share its cores), as the Django backend would.

    .venv/bin/python bench/inference_latency.py                 # gunicorn, 2 workers
    .venv/bin/python bench/inference_latency.py --server dev    # werkzeug dev server
    .venv/bin/python bench/inference_latency.py --engines sequence,omics,imaging

Target: p99 <= 100 ms at 8 clients for a 600-residue protein on a 2-core machine.
Writes bench/out/inference_latency_<server>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.config import REPO_ROOT
from inference.testing import ServerHandle, start_server

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR") or REPO_ROOT.parent / "shared" / "datasets")
FASTA = DATASETS / "sequences" / "viral_nextclade" / "viral_proteins.fasta"
LENGTH = 600


def protein_of_length(length: int) -> tuple[str, str]:
    """The first real protein of at least ``length`` residues, cut to ``length``."""
    header = ""
    chunks: list[str] = []
    with FASTA.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                seq = "".join(chunks)
                if len(seq) >= length and set(seq) <= set("ACDEFGHIKLMNPQRSTVWY"):
                    return header, seq[:length]
                header, chunks = line[1:], []
            else:
                chunks.append(line)
    raise SystemExit(f"no protein of {length} residues in {FASTA}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def client(
    handle: ServerHandle, body: bytes, count: int, out: list[float], errors: list[str]
) -> None:
    connection = http.client.HTTPConnection(handle.host, handle.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("POST", "/api/v1/predict", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                errors.append(f"{response.status}: {payload[:200]!r}")
            out.append(elapsed * 1000)
    finally:
        connection.close()


def run_round(
    handle: ServerHandle, body: bytes, clients: int, per_client: int, errors: list[str]
) -> tuple[list[float], float]:
    """One round: ``clients`` threads, ``per_client`` requests each; latencies and wall time."""
    buckets: list[list[float]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(target=client, args=(handle, body, per_client, buckets[i], errors))
        for i in range(clients)
    ]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for bucket in buckets for x in bucket], time.perf_counter() - wall


def run_level(
    handle: ServerHandle, body: bytes, clients: int, per_client: int, rounds: int
) -> dict[str, Any]:
    """Several rounds; percentiles over all requests, plus each round's p99 (to show the spread)."""
    latencies: list[float] = []
    errors: list[str] = []
    wall = 0.0
    round_p99 = []
    for _ in range(rounds):
        part, seconds = run_round(handle, body, clients, per_client, errors)
        latencies.extend(part)
        wall += seconds
        round_p99.append(round(percentile(part, 99), 1))
    return {
        "clients": clients,
        "requests": len(latencies),
        "rounds": rounds,
        "round_p99_ms": round_p99,
        "load_average_1m": float(Path("/proc/loadavg").read_text().split()[0]),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "throughput_rps": round(len(latencies) / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("gunicorn", "dev"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engines", default="sequence")
    parser.add_argument("--requests", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per concurrency level")
    parser.add_argument("--levels", default="1,8")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    args = parser.parse_args()

    header, protein = protein_of_length(LENGTH)
    body = json.dumps({"sequence": protein, "seq_type": "protein"}).encode()
    env = {
        "CDSS_INFERENCE_ENGINES": args.engines,
        "CDSS_INFERENCE_WORKERS": str(args.workers),
        "CDSS_INFERENCE_LOG_LEVEL": "warning",
        "CDSS_RUNTIME_MODELS_DIR": tempfile.mkdtemp(prefix="bench-runtime-"),
    }
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "server": args.server,
        "workers": args.workers if args.server == "gunicorn" else 1,
        "gunicorn_env": {k: v for k, v in os.environ.items() if k.startswith("CDSS_INFERENCE_")},
        "engines": args.engines,
        "protein": {"source": header.split()[0], "length": len(protein)},
        "levels": [],
    }
    with start_server(env=env, gunicorn=args.server == "gunicorn") as handle:
        ready = json.loads(handle.get("/ready"))
        if not ready.get("ready"):
            raise SystemExit(f"the server is not ready: {ready.get('error')}")
        info = json.loads(handle.get("/api/v1/model-info"))
        results["model_version"] = info.get("model_version")
        run_round(handle, body, 2, 20, [])  # warm-up: every worker has answered before timing
        for clients in (int(x) for x in args.levels.split(",")):
            per_client = max(1, args.requests // clients)
            level = run_level(handle, body, clients, per_client, args.rounds)
            results["levels"].append(level)
            print(json.dumps(level), flush=True)

    failed = [level for level in results["levels"] if level["errors"]]
    if failed:
        raise SystemExit(f"requests failed, results not written: {failed[0]['first_error']}")
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"_{args.tag}" if args.tag else ""
    path = out / f"inference_latency_{args.server}{suffix}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
    print(
        "| server | clients | requests | p50 ms | p90 ms | p99 ms | p99 by round | max ms | rps |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for level in results["levels"]:
        print(
            f"| {args.server} ({results['workers']}w) | {level['clients']} | {level['requests']} "
            f"| {level['p50_ms']} | {level['p90_ms']} | {level['p99_ms']} "
            f"| {', '.join(str(x) for x in level['round_p99_ms'])} | {level['max_ms']} "
            f"| {level['throughput_rps']} |"
        )


if __name__ == "__main__":
    main()
