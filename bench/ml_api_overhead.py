"""What the Django /ml/v1 path costs on top of the inference server, for a 1,000-sequence batch.

Starts a real inference server and a real Django (uvicorn) process on a scratch SQLite database,
sends the same 1,000 real protein sequences as one batch directly to the inference server and
through /ml/v1/predict/ (JWT, validation, InferenceLog write), alternating, and reports the median
of each and the overhead. Writes docs/benchmarks/ml_api.md.

    .venv/bin/python bench/ml_api_overhead.py [--repeats 5] [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference.testing import free_port, start_server  # noqa: E402


def _datasets_dir() -> Path:
    return Path(os.environ.get("CDSS_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))


def load_sequences(n: int) -> list[str]:
    fasta = _datasets_dir() / "sequences" / "viral_nextclade" / "viral_proteins.fasta"
    seqs: list[str] = []
    current: list[str] = []
    with fasta.open() as fh:
        for line in fh:
            if line.startswith(">"):
                if current:
                    seqs.append("".join(current))
                current = []
                if len(seqs) >= n * 6:
                    break
            else:
                current.append(line.strip())
    # Every third record, so the batch mixes viruses and proteins rather than one block.
    picked = [s for s in seqs[::3] if 10 <= len(s) <= 2000][:n]
    if len(picked) < n:
        raise SystemExit(f"only {len(picked)} usable sequences in {fasta}")
    return picked


def start_django(port: int, db: Path, inference_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{db}",
        "CDSS_INFERENCE_URL": inference_url,
        "DJANGO_LOG_LEVEL": "WARNING",
        "CDSS_MAX_REQUEST_BODY": str(50 * 1024 * 1024),
    }
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            py,
            "manage.py",
            "create_user",
            "--username",
            "bench",
            "--role",
            "clinician",
            "--password",
            "bench-password-123",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            py,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("Django did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    seqs = load_sequences(args.n)
    items = [{"id": f"q{i}", "sequence": s, "seq_type": "protein"} for i, s in enumerate(seqs)]
    body = {"items": items}
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_server(env={"CDSS_INFERENCE_ENGINES": "sequence"}) as server,
    ):
        port = free_port()
        django = start_django(port, Path(tmp) / "bench.sqlite3", server.url)
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(
                f"{base}/api/v1/auth/token/",
                json={"username": "bench", "password": "bench-password-123"},
            ).json()["access"]
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(timeout=300) as client:
                # Warm both paths once (model caches, DB connection, imports).
                client.post(f"{server.url}/api/v1/predict", json=body).raise_for_status()
                client.post(f"{base}/ml/v1/predict/", json=body, headers=headers).raise_for_status()
                direct: list[float] = []
                via: list[float] = []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    r = client.post(f"{server.url}/api/v1/predict", json=body)
                    direct.append(time.perf_counter() - t)
                    r.raise_for_status()
                    t = time.perf_counter()
                    r = client.post(f"{base}/ml/v1/predict/", json=body, headers=headers)
                    via.append(time.perf_counter() - t)
                    r.raise_for_status()
                    assert len(r.json()["results"]) == args.n
        finally:
            django.terminate()
            django.wait(30)
    d, v = statistics.median(direct), statistics.median(via)
    overhead = (v - d) / d * 100
    result = {
        "n_sequences": args.n,
        "repeats": args.repeats,
        "direct_median_s": round(d, 3),
        "django_median_s": round(v, 3),
        "overhead_percent": round(overhead, 1),
        "direct_all_s": [round(x, 3) for x in direct],
        "django_all_s": [round(x, 3) for x in via],
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "docs" / "benchmarks" / "ml_api.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"## /ml/v1 batch overhead: Django path vs the inference server directly\n\n"
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores "
        f"(`bench/ml_api_overhead.py --repeats {args.repeats} --n {args.n}`). One batch of "
        f"{args.n} real viral proteins (every third record of viral_nextclade), "
        f"the same body both ways; "
        f"Django path = uvicorn + JWT + validation + InferenceLog row on SQLite.\n\n"
        f"| path | median s | all runs s |\n| --- | --- | --- |\n"
        f"| inference server directly | {d:.3f} | {result['direct_all_s']} |\n"
        f"| Django /ml/v1/predict/ | {v:.3f} | {result['django_all_s']} |\n\n"
        f"Overhead of the Django path: **{overhead:.1f}%** (target: at most 10%).\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
