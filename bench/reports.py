"""Reports and interpretations through a running system (`make run`): how long each chained
``report`` and ``interpretation`` analysis took, per kind of the analysis it describes.

Every completed analysis chains an interpretation and a PDF report in each configured language;
this reads them all back over the API (a clinician's view) and reports, per (kind, source kind),
the count, median and max of ``started_at -> completed_at`` from the API's own timestamps. Run it
after other benchmarks (`bench/ct_analysis.py`, `bench/omics_analysis.py`) have left analyses.

    make run                                   # in another terminal
    .venv/bin/python bench/reports.py          # credentials from var/demo-credentials.txt

Writes bench/out/reports.json; results are recorded in docs/benchmarks/reports.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._proc import log_in

ROOT = Path(__file__).resolve().parent.parent
CHAINED = ("report", "interpretation")


def _all(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        page = client.get(next_url).json()
        items += page["results"]
        next_url = page["next"]
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="doctor")
    parser.add_argument("--password", default="")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "reports.json")
    args = parser.parse_args()
    try:
        httpx.get(f"{args.base}/healthz", timeout=2).raise_for_status()
    except httpx.HTTPError:
        print(f"reports: skipped, no CDSS at {args.base}; start `make run` first")
        return
    with httpx.Client(base_url=args.base, timeout=60) as client:
        log_in(client, args.username, args.password)
        analyses = _all(client, "/api/v1/analyses/?page_size=100")
        kinds = {a["id"]: a["kind"] for a in analyses}
        spans: dict[str, list[float]] = {}
        for item in analyses:
            if item["kind"] not in CHAINED or item["status"] != "COMPLETED":
                continue
            detail = client.get(f"/api/v1/analyses/{item['id']}/").json()
            source = kinds.get(detail["inputs"]["analysis"], "?")
            started = detail.get("started_at") or detail["created_at"]
            seconds = (
                datetime.fromisoformat(detail["completed_at"]) - datetime.fromisoformat(started)
            ).total_seconds()
            spans.setdefault(f"{item['kind']} of {source}", []).append(seconds)
    results = {
        key: {
            "count": len(values),
            "median_s": round(statistics.median(values), 3),
            "max_s": round(max(values), 3),
        }
        for key, values in sorted(spans.items())
    }
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
