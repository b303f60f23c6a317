"""Peak memory of the inference server (all its processes) under prediction load.

Starts a real server (gunicorn with its workers by default, or the dev server), samples every
process of its tree every 50 ms from /proc (RSS, and PSS, which splits shared pages fairly so the
sum over processes is the true total), and meanwhile sends: 200 single predictions of a real
600-residue protein, 3 batches of 1,000 real proteins, and model-info calls. Reports the idle
footprint after loading, the peak of the summed PSS and RSS, and each process's own peak (VmHWM).

    .venv/bin/python bench/inference_memory.py                                  # sequence engine
    .venv/bin/python bench/inference_memory.py --engines sequence,omics,imaging # every engine

Target: < 1 GB for the server. Writes bench/out/inference_memory_<server>_<engines>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
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
MIB = 1024 * 1024


def real_proteins(count: int) -> list[str]:
    proteins: list[str] = []
    chunks: list[str] = []
    with FASTA.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if chunks:
                    proteins.append("".join(chunks))
                    if len(proteins) >= count:
                        break
                chunks = []
            else:
                chunks.append(line)
    return [p for p in proteins if 8 <= len(p) <= 10_000]


def tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc/<pid>/task/<tid>/children."""
    pids, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        pids.append(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                frontier.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def snapshot(root: int) -> dict[int, dict[str, int]]:
    return {
        pid: {
            "rss_kib": _kib(Path(f"/proc/{pid}/status"), "VmRSS"),
            "hwm_kib": _kib(Path(f"/proc/{pid}/status"), "VmHWM"),
            "pss_kib": _kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss"),
        }
        for pid in tree(root)
    }


class Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop_event = threading.Event()
        self.peak_pss = 0
        self.peak_rss = 0
        self.hwm: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop_event.is_set():
            snap = snapshot(self.root)
            self.peak_pss = max(self.peak_pss, sum(p["pss_kib"] for p in snap.values()))
            self.peak_rss = max(self.peak_rss, sum(p["rss_kib"] for p in snap.values()))
            for pid, p in snap.items():
                self.hwm[pid] = max(self.hwm.get(pid, 0), p["hwm_kib"])
            self.stop_event.wait(0.05)


def post(handle: ServerHandle, path: str, body: Any) -> int:
    connection = http.client.HTTPConnection(handle.host, handle.port, timeout=600)
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("gunicorn", "dev"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engines", default="sequence")
    args = parser.parse_args()

    proteins = real_proteins(3000)
    single = next(p for p in proteins if len(p) >= 600)[:600]
    env = {
        "CDSS_INFERENCE_ENGINES": args.engines,
        "CDSS_INFERENCE_WORKERS": str(args.workers),
        "CDSS_INFERENCE_LOG_LEVEL": "warning",
        "CDSS_RUNTIME_MODELS_DIR": tempfile.mkdtemp(prefix="bench-runtime-"),
    }
    with start_server(env=env, gunicorn=args.server == "gunicorn") as handle:
        ready = json.loads(handle.get("/ready"))
        if not ready.get("ready"):
            raise SystemExit(f"the server is not ready: {ready.get('error')}")
        root = handle.process.pid
        idle = snapshot(root)
        sampler = Sampler(root)
        sampler.start()
        statuses = []
        started = time.perf_counter()
        for _ in range(200):
            statuses.append(post(handle, "/api/v1/predict", {"sequence": single}))
        for start in range(0, 3000, 1000):
            items = [{"id": i, "sequence": p} for i, p in enumerate(proteins[start : start + 1000])]
            statuses.append(post(handle, "/api/v1/predict", {"items": items}))
        elapsed = time.perf_counter() - started
        sampler.stop_event.set()
        sampler.join()
        final = snapshot(root)

    if any(status != 200 for status in statuses):
        raise SystemExit(f"requests failed (statuses {sorted(set(statuses))}); results not written")
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "server": args.server,
        "workers": args.workers if args.server == "gunicorn" else 1,
        "engines": args.engines,
        "processes": len(final),
        "load": "200 single 600-aa predictions + 3 batches of 1,000 real proteins",
        "load_seconds": round(elapsed, 1),
        "idle_pss_mib": round(sum(p["pss_kib"] for p in idle.values()) / 1024, 1),
        "idle_rss_mib": round(sum(p["rss_kib"] for p in idle.values()) / 1024, 1),
        "peak_pss_mib": round(sampler.peak_pss / 1024, 1),
        "peak_rss_mib": round(sampler.peak_rss / 1024, 1),
        "per_process_peak_rss_mib": sorted(round(v / 1024, 1) for v in sampler.hwm.values()),
    }
    print(json.dumps(result, indent=2))
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    name = f"inference_memory_{args.server}_{args.engines.replace(',', '+')}.json"
    (out / name).write_text(json.dumps(result, indent=2))
    print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
