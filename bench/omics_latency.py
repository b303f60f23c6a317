"""Engine-level and HTTP latency of one omics prediction (both models, full samples).

Loads the active omics model version, builds one full sample per model from the artifact (every
feature of every layer, values at the training means shifted by a fixed pattern), then times
``OmicsEngine.predict`` and ``POST /api/v1/omics/predict`` through the real Flask app (test client,
no network), reporting p50/p95/p99, load time and resident memory. Results are printed as JSON.

    .venv/bin/python bench/omics_latency.py [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._proc import rss_mb  # noqa: E402
from inference.app import create_app  # noqa: E402
from inference.config import InferenceConfig  # noqa: E402
from inference.engines.omics import OmicsEngine  # noqa: E402


def full_samples(version_dir: Path) -> dict[str, dict[str, Any]]:
    rosmap = json.loads((version_dir / "rosmap" / "model.json").read_text())
    paad = json.loads((version_dir / "tcga_paad" / "model.json").read_text())

    def layer(features: list[str], mean: list[float], scale: list[float]) -> dict[str, float]:
        return {
            f: m + 0.3 * s * ((i % 3) - 1)
            for i, (f, m, s) in enumerate(zip(features, mean, scale, strict=True))
        }

    cnv = paad["blocks"]["cnv"]
    cnv_all = dict.fromkeys(cnv["input_features"], 0.1)
    cnv_all.update(layer(cnv["features"], cnv["mean"], cnv["scale"]))
    return {
        "rosmap": {
            v: layer(b["features"], b["mean"], b["scale"]) for v, b in rosmap["views"].items()
        },
        "tcga_paad": {
            "mirna": layer(
                **{k: paad["blocks"]["mirna"][k] for k in ("features", "mean", "scale")}
            ),
            "cnv": cnv_all,
            "clinical": {
                "age_years": 66,
                "pathologic_stage": "stage iib",
                "t_stage": "t3",
                "n_stage": "n1",
                "m_stage": "m0",
                "sex_male": "female",
                "radiation_therapy": "no",
                "residual_tumor": "r0",
                "lymph_nodes_positive": 2,
            },
        },
    }


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(samples_ms)
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "mean_ms": round(float(arr.mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    models_dir = ROOT / "models"
    version = (models_dir / "omics" / "CURRENT").read_text().strip()
    version_dir = models_dir / "omics" / version
    rss_before = rss_mb()
    t0 = time.perf_counter()
    engine = OmicsEngine()
    engine.load(version_dir)
    load_s = time.perf_counter() - t0
    samples = full_samples(version_dir)
    result: dict[str, Any] = {
        "version": version,
        "load_s": round(load_s, 3),
        "rss_after_load_mb": round(rss_mb(), 1),
        "rss_engine_mb": round(rss_mb() - rss_before, 1),
        "calls": args.calls,
    }
    with tempfile.TemporaryDirectory() as runtime:
        config = InferenceConfig(
            models_dir=models_dir, runtime_models_dir=Path(runtime), engines=("omics",)
        )
        client = create_app(config).test_client()
        for model, sample in samples.items():
            engine.predict(model, sample)  # warm-up
            times = []
            for _ in range(args.calls):
                t = time.perf_counter()
                engine.predict(model, sample)
                times.append((time.perf_counter() - t) * 1000)
            body = {"model": model, "sample": sample}
            http = []
            for _ in range(args.calls):
                t = time.perf_counter()
                response = client.post("/api/v1/omics/predict", json=body)
                http.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.get_json()
            batch = {"model": model, "samples": [sample] * 32}
            t = time.perf_counter()
            response = client.post("/api/v1/omics/predict", json=batch)
            batch_ms = (time.perf_counter() - t) * 1000
            assert response.status_code == 200
            n_features = sum(len(layer) for layer in sample.values())
            result[model] = {
                "features_in_sample": n_features,
                "engine": percentiles(times),
                "http_test_client": percentiles(http),
                "http_batch_of_32_ms": round(batch_ms, 1),
            }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
