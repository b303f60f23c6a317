"""CT analyses: upload -> COMPLETED with every artifact, through a running system (`make run`),
and the inference server's time and peak memory on a 512x512x300 CT.

Part 1 (needs `make run`): what a new user does, over HTTP only: upload the example CT
(``example_ct.nii.gz``, 122x101x112 at 3 mm) as the patient's ``ct_volume``, submit a ``ct``
analysis, poll until COMPLETED (every 100 ms), download every artifact. Timed end to end, with the
server-side span (created -> completed, from the API's own timestamps); ``--large`` also sends the
512x512x300 volume through the running system.

Part 2 (no server needed): ``ImagingEngine.analyze_ct`` on the 512x512x300 volume (the example CT
resampled trilinearly to 0.66x0.59x1.12 mm, int16 HU) in a fresh process on 2 threads, as one
inference worker runs it: seconds per stage and the process's peak RSS (``ru_maxrss``).

    make run                                  # in another terminal, for part 1
    .venv/bin/python bench/ct_analysis.py [--runs 3] [--large]

Writes bench/out/ct_analysis.json; results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._proc import log_in

ROOT = Path(__file__).resolve().parent.parent
THREADS = "2"
LARGE_SHAPE = (512, 512, 300)


def _example_dir() -> Path:
    datasets = Path(os.environ.get("CDSS_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
    return datasets / "imaging" / "totalsegmentator_example_ct"


def make_large(path: Path) -> Path:
    """The example CT resampled to 512x512x300 (trilinear), saved as int16 NIfTI."""
    import nibabel as nib
    import numpy as np
    from scipy import ndimage

    img: Any = nib.load(_example_dir() / "example_ct.nii.gz")
    data = np.asarray(img.dataobj, dtype=np.float32)
    factors = [n / s for n, s in zip(LARGE_SHAPE, data.shape, strict=True)]
    big = ndimage.zoom(data, factors, order=1).astype(np.int16)
    affine = img.affine.copy()
    affine[:3, :3] = img.affine[:3, :3] @ np.diag([1 / f for f in factors])
    nib.save(nib.Nifti1Image(big, affine), path)
    return path


def one_run(client: httpx.Client, patient_id: int, volume: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with volume.open("rb") as fh:
        uploaded = client.post(
            f"/api/v1/patients/{patient_id}/files/",
            data={"role": "ct_volume"},
            files={"file": (volume.name, fh, "application/gzip")},
        )
    uploaded.raise_for_status()
    upload_s = time.perf_counter() - started
    submitted = client.post(
        "/api/v1/analyses/",
        json={
            "kind": "ct",
            "patient": patient_id,
            "inputs": {"volume_file": uploaded.json()["id"]},
        },
    )
    submitted.raise_for_status()
    location = submitted.headers["Location"]
    while True:
        detail = client.get(location).json()
        if detail["status"] in {"COMPLETED", "FAILED", "CANCELLED"}:
            break
        time.sleep(0.1)
    completed_s = time.perf_counter() - started
    if detail["status"] != "COMPLETED":
        raise SystemExit(f"ct: {detail['status']} {detail.get('error')}")
    sizes = {}
    for artifact in detail["artifacts"]:
        response = client.get(artifact["url"])
        response.raise_for_status()
        sizes[artifact["name"]] = len(response.content)
    server_s = (
        datetime.fromisoformat(detail["completed_at"])
        - datetime.fromisoformat(detail["created_at"])
    ).total_seconds()
    result = client.get(f"{location}result/").json()
    return {
        "upload_s": round(upload_s, 3),
        "upload_to_completed_s": round(completed_s, 3),
        "server_created_to_completed_s": round(server_s, 3),
        "with_artifacts_s": round(time.perf_counter() - started, 3),
        "artifact_bytes": sizes,
        "engine_timings_s": result.get("timings_s"),
    }


def through_the_system(args: argparse.Namespace, large: Path | None) -> dict[str, Any] | None:
    try:
        httpx.get(f"{args.base}/healthz", timeout=2).raise_for_status()
    except httpx.HTTPError:
        print(f"ct_analysis: part 1 skipped, no CDSS at {args.base}; start `make run` first")
        return None
    with httpx.Client(base_url=args.base, timeout=600) as client:
        log_in(client, args.username, args.password)
        patient = client.post(
            "/api/v1/patients/", json={"mrn": f"BENCH-{uuid.uuid4().hex[:8]}", "name": "CT Bench"}
        )
        patient.raise_for_status()
        pid = patient.json()["id"]
        example = _example_dir() / "example_ct.nii.gz"
        runs = [one_run(client, pid, example) for _ in range(args.runs)]
        out: dict[str, Any] = {
            "example_ct": {
                "runs": runs,
                "upload_to_completed_s_median": statistics.median(
                    r["upload_to_completed_s"] for r in runs
                ),
                "upload_to_completed_s_max": max(r["upload_to_completed_s"] for r in runs),
            }
        }
        if large is not None:
            out["ct_512x512x300"] = one_run(client, pid, large)
        return out


_CHILD = """
import json, resource, sys, time, tempfile
from pathlib import Path
import torch
torch.set_num_threads(int(sys.argv[3]))
from inference.config import InferenceConfig
from inference.engines.imaging.engine import ImagingEngine
from inference.registry import resolve_version
media = Path(sys.argv[1]).parent
config = InferenceConfig(media_root=media)
engine = ImagingEngine(config)
engine.load(resolve_version("imaging", config).path)
work = Path(tempfile.mkdtemp(dir=media))
t = time.perf_counter()
result = engine.analyze_ct(volume_path=Path(sys.argv[1]), output_dir=work)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": round(wall, 2), "timings_s": result["timings_s"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "liver_ml": result["liver"].get("volume_ml"),
                  "artifact_bytes": {a["name"]: a["bytes"] for a in result["artifacts"]}}))
"""


def engine_alone(volume: Path) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(volume), "-", THREADS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"engine run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="doctor")
    parser.add_argument("--password", default="")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="also send 512x512x300 via HTTP")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ct_analysis.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdss-ct-bench-") as tmp:
        large = make_large(Path(tmp) / "ct_512x512x300.nii.gz")
        report = {
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "date": time.strftime("%Y-%m-%d"),
            "through_make_run": through_the_system(args, large if args.large else None),
            "engine_512x512x300": engine_alone(large),
            "engine_example_ct": engine_alone(
                Path(shutil.copy(_example_dir() / "example_ct.nii.gz", Path(tmp) / "ex.nii.gz"))
            ),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
