"""Memory growth of the inference server on a NIfTI decompression bomb, and on a large volume.

Cases (each a few-megabyte ``.nii.gz`` of zeros, written as a stream, never held in memory):

- ``bomb``: 512x512x1000 float64, 2 GB decoded: over the decoded-bytes cap (1 GiB by default);
- ``large``: 512x512x500 float64, 1.05 GB decoded: within the caps, analysed;
- ``large_lps``: the same stored LPS (as volumes converted from DICOM are), so that reorienting to
  RAS flips two axes.

Each case runs in a fresh process that builds the real app (imaging engine, committed model) and
uploads the file to ``POST /api/v1/imaging/analyze`` through Flask's test client, as the web
backend would. Reported: the status, the seconds the request took, the RSS before the request and
the peak RSS during it (VmHWM, reset just before the request), and their difference (the growth).

    .venv/bin/python bench/imaging_decoded_memory.py                  # this checkout
    .venv/bin/python bench/imaging_decoded_memory.py --code /tmp/old  # another tree (before/after)

Writes bench/out/imaging_decoded_memory.json (or ..._<label>.json with --label).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MIB = 1024 * 1024
RAS = (0.8, 0.8, 1.0)
LPS = (-0.8, -0.8, 1.0)
CASES = {
    "bomb": ((512, 512, 1000), RAS),
    "large": ((512, 512, 500), RAS),
    "large_lps": ((512, 512, 500), LPS),
}

CHILD = r"""
import io, json, os, sys, time
from pathlib import Path

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")

from inference.app import create_app
from inference.config import InferenceConfig

app = create_app(InferenceConfig(engines=("imaging",), runtime_models_dir=Path(sys.argv[2])))
client = app.test_client()
data = Path(sys.argv[1]).read_bytes()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # resets VmHWM to the current RSS
before = status("VmRSS")
t0 = time.perf_counter()
response = client.post(
    "/api/v1/imaging/analyze",
    data={"volume": (io.BytesIO(data), "volume.nii.gz")},
    content_type="multipart/form-data",
)
seconds = time.perf_counter() - t0
body = response.get_json()
print(json.dumps({
    "status": response.status_code,
    "seconds": round(seconds, 2),
    "rss_before_mb": round(before, 1),
    "peak_rss_mb": round(status("VmHWM"), 1),
    "answer": (body.get("error") or body.get("volume")) if isinstance(body, dict) else None,
}))
"""


def write_zeros(
    path: Path, shape: tuple[int, int, int], diagonal: tuple[float, float, float]
) -> int:
    """A float64 NIfTI of zeros, gzip-compressed, written slice by slice; returns its size."""
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(np.float64)
    header.set_zooms(tuple(abs(d) for d in diagonal))
    header.set_sform(np.diag([*diagonal, 1.0]), code=1)
    header["vox_offset"] = 352
    plane = bytes(shape[0] * shape[1] * 8)
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(header.binaryblock + b"\x00" * 4)
        for _ in range(shape[2]):
            fh.write(plane)
    return path.stat().st_size


def run_case(code: Path, volume: Path, runtime: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(volume), str(runtime)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["growth_mb"] = round(result["peak_rss_mb"] - result["rss_before_mb"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO, help="tree whose inference/ to run")
    parser.add_argument("--label", default="", help="suffix of the output file")
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "code": str(args.code.resolve()),
        "cases": {},
    }
    with tempfile.TemporaryDirectory(prefix="cdss-bench-") as tmp:
        for name in args.cases.split(","):
            shape, diagonal = CASES[name]
            volume = Path(tmp) / f"{name}.nii.gz"
            size = write_zeros(volume, shape, diagonal)
            result = run_case(args.code.resolve(), volume, Path(tmp) / "runtime")
            result.update(
                shape=list(shape),
                file_mb=round(size / MIB, 2),
                decoded_mb=round((352 + int(np.prod(shape)) * 8) / MIB, 1),
            )
            results["cases"][name] = result
            print(name, json.dumps(result), flush=True)
            volume.unlink()
    out = BENCH / "out" / f"imaging_decoded_memory{'_' + args.label if args.label else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
