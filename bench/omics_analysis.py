"""Omics analyses through a running system (`make run`): template -> upload -> COMPLETED.

What a new user does, over HTTP only, timed end to end for each model: download the template,
upload it as the patient's omics table, submit the analysis, and watch until it is COMPLETED (the
analysis detail is polled every 50 ms, so a time is at most 50 ms late). Each run also downloads
every artifact. The server-side span (created -> completed, from the API's own timestamps) is
reported beside it.

    make run                                   # in another terminal
    .venv/bin/python bench/omics_analysis.py   # credentials from var/demo-credentials.txt

Writes bench/out/omics_analysis.json; results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._proc import log_in

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"rosmap": "omics_rosmap", "tcga_paad": "omics_paad_survival"}


def one_run(client: httpx.Client, patient_id: int, model: str) -> dict[str, Any]:
    started = time.perf_counter()
    template = client.get(f"/api/v1/omics/templates/{model}.csv")
    template.raise_for_status()
    uploaded = client.post(
        f"/api/v1/patients/{patient_id}/files/",
        data={"role": "omics_table"},
        files={"file": (f"{model}.csv", template.content, "text/csv")},
    )
    uploaded.raise_for_status()
    upload_s = time.perf_counter() - started
    submitted = client.post(
        "/api/v1/analyses/",
        json={
            "kind": KINDS[model],
            "patient": patient_id,
            "inputs": {"table_file": uploaded.json()["id"]},
        },
    )
    submitted.raise_for_status()
    location = submitted.headers["Location"]
    while True:
        detail = client.get(location).json()
        if detail["status"] in {"COMPLETED", "FAILED", "CANCELLED"}:
            break
        time.sleep(0.05)
    completed_s = time.perf_counter() - started
    if detail["status"] != "COMPLETED":
        raise SystemExit(f"{model}: {detail['status']} {detail.get('error')}")
    for artifact in detail["artifacts"]:
        client.get(artifact["url"]).raise_for_status()
    server_s = (
        datetime.fromisoformat(detail["completed_at"])
        - datetime.fromisoformat(detail["created_at"])
    ).total_seconds()
    return {
        "upload_s": upload_s,
        "upload_to_completed_s": completed_s,
        "server_created_to_completed_s": server_s,
        "with_artifacts_s": time.perf_counter() - started,
        "artifacts": [a["name"] for a in detail["artifacts"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="doctor")
    parser.add_argument("--password", default="")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "omics_analysis.json")
    args = parser.parse_args()
    try:
        httpx.get(f"{args.base}/healthz", timeout=2).raise_for_status()
    except httpx.HTTPError:
        print(f"omics_analysis: skipped, no CDSS at {args.base}; start `make run` first")
        return
    with httpx.Client(base_url=args.base, timeout=60) as client:
        log_in(client, args.username, args.password)
        patient = client.post(
            "/api/v1/patients/",
            json={"mrn": f"BENCH-{uuid.uuid4().hex[:8]}", "name": "Omics Bench"},
        )
        patient.raise_for_status()
        results: dict[str, Any] = {}
        for model in KINDS:
            one_run(client, patient.json()["id"], model)  # warm-up: first imports, first figure
            runs = [one_run(client, patient.json()["id"], model) for _ in range(args.runs)]
            results[model] = {
                "runs": args.runs,
                "artifacts": runs[0]["artifacts"],
                **{
                    f"{key}_{stat}": round(fn([r[key] for r in runs]), 3)
                    for key in ("upload_to_completed_s", "server_created_to_completed_s")
                    for stat, fn in (("median", statistics.median), ("max", max))
                },
            }
    report = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d"),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
