"""The inference server's /metrics: who may read it, that the counters move with requests, the
model versions it names, and several worker processes added up (multiprocess mode).

Only differences are asserted: the registry is the test process's own and other tests move it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import prometheus_client
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig, use_metrics_dir
from inference.metrics import METRIC_NAMES
from inference.registry import EngineRegistry
from inference.tests.conftest import FakeSequenceEngine

TOKEN = "t" * 40
OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def sample(name: str, **labels: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0


def _app(config: InferenceConfig) -> Flask:
    registry = EngineRegistry(config, factories={"sequence": FakeSequenceEngine})
    registry.load_all()
    return create_app(config, registry=registry)


@pytest.fixture
def token_client(fake_config: InferenceConfig) -> FlaskClient:
    return _app(dataclasses.replace(fake_config, metrics_token=TOKEN)).test_client()


def _families(text: str) -> dict[str, list[prometheus_client.Metric]]:
    out: dict[str, list[prometheus_client.Metric]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).append(family)
    return out


def test_loopback_reads_the_metrics(fake_client: FlaskClient) -> None:
    response = fake_client.get("/metrics")  # the test client's peer is 127.0.0.1
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    names = set(_families(response.get_data(as_text=True)))
    assert {"cdss_inference_requests", "cdss_inference_model_info"} <= names
    # prometheus_client's own process collector (single-process mode): memory, CPU, files.
    assert "process_resident_memory_bytes" in names


@pytest.mark.parametrize(
    "environ",
    [
        OUTSIDE,
        {**OUTSIDE, "HTTP_AUTHORIZATION": "Bearer " + "x" * 40},
        {**OUTSIDE, "HTTP_AUTHORIZATION": TOKEN},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.7"},
    ],
    ids=["outside", "wrong-token", "not-bearer", "forwarded-for", "real-ip"],
)
def test_others_get_the_404_of_a_missing_path(token_client: FlaskClient, environ) -> None:
    response = token_client.get("/metrics", environ_base=environ)
    missing = token_client.get("/no-such-route", environ_base=environ)
    assert response.status_code == 404
    assert response.get_json() == missing.get_json()


def test_token_opens_it_from_anywhere(token_client: FlaskClient) -> None:
    response = token_client.get(
        "/metrics", environ_base=OUTSIDE, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    assert b"cdss_inference_requests_total" in response.data


def test_requests_move_the_counters_and_latency(fake_client: FlaskClient) -> None:
    route = "/api/v1/predict"
    ok = sample("cdss_inference_requests_total", route=route, method="POST", status="200")
    bad = sample("cdss_inference_requests_total", route=route, method="POST", status="400")
    timed = sample("cdss_inference_request_duration_seconds_count", route=route, engine="sequence")
    unmatched = sample(
        "cdss_inference_requests_total", route="<unmatched>", method="GET", status="404"
    )
    assert fake_client.post(route, json={"sequence": "MKVLAAGG"}).status_code == 200
    assert fake_client.post(route, json={"sequence": "MKVB"}).status_code == 400
    assert fake_client.get("/no/such/route").status_code == 404
    after = (
        sample("cdss_inference_requests_total", route=route, method="POST", status="200") - ok,
        sample("cdss_inference_requests_total", route=route, method="POST", status="400") - bad,
        sample("cdss_inference_request_duration_seconds_count", route=route, engine="sequence")
        - timed,
        sample("cdss_inference_requests_total", route="<unmatched>", method="GET", status="404")
        - unmatched,
    )
    assert after == (1, 1, 2, 1)


def test_structure_ids_never_become_labels(fake_client: FlaskClient) -> None:
    fake_client.get("/api/v1/structures/1ABC")
    text = fake_client.get("/metrics").get_data(as_text=True)
    assert "1ABC" not in text
    assert 'route="/api/v1/structures/<pdb_id>"' in text


def test_model_versions_are_labels(fake_client: FlaskClient) -> None:
    assert sample("cdss_inference_model_info", engine="sequence", version="seq-test.0") == 1


def test_every_named_metric_is_exported(fake_client: FlaskClient) -> None:
    fake_client.get("/health")
    exported = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in prometheus_client.REGISTRY.collect()
    }
    assert exported >= METRIC_NAMES


# A worker: the app on the fake engine, answering n predictions; prints its pid.
_WORKER = """
import dataclasses, os, sys
from pathlib import Path
from inference.app import create_app
from inference.config import InferenceConfig
from inference.registry import EngineRegistry
from inference.tests.conftest import FakeSequenceEngine, make_models_dir

root = Path(sys.argv[2])
models = root / "models" if (root / "models").exists() else make_models_dir(root / "models")
config = dataclasses.replace(
    InferenceConfig.from_env(), models_dir=models, engines=("sequence",)
)
registry = EngineRegistry(config, factories={"sequence": FakeSequenceEngine})
registry.load_all()
client = create_app(config, registry=registry).test_client()
for _ in range(int(sys.argv[1])):
    assert client.post("/api/v1/predict", json={"sequence": "MKVLAAGG"}).status_code == 200
if len(sys.argv) > 3:
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))
else:
    print(os.getpid())
"""


def _worker(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_workers_sharing_the_multiprocess_dir_add_up(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(shared),  # what gunicorn_conf sets from the next one
        "CDSS_INFERENCE_METRICS_DIR": str(shared),
        "CDSS_INFERENCE_ENGINES": "",
    }
    env.pop("CDSS_METRICS_TOKEN", None)
    first = int(_worker("2", str(tmp_path), env=env))
    _worker("3", str(tmp_path), env=env)
    text = _worker("0", str(tmp_path), "scrape", env=env)
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    predict = (("method", "POST"), ("route", "/api/v1/predict"), ("status", "200"))
    assert values[("cdss_inference_requests_total", predict)] == 5
    version = (("engine", "sequence"), ("version", "seq-test.0"))
    assert values[("cdss_inference_model_info", version)] == 1
    # One memory series per worker process (pid label), each a plausible resident size.
    memory = [v for (name, _), v in values.items() if name.endswith("resident_memory_bytes")]
    assert len(memory) == 3 and all(v > 10 * 1024 * 1024 for v in memory)

    # gunicorn's child_exit for the first worker (run in a process of its own: the settings
    # module sets thread variables for the workers): its live gauges go, its counts stay.
    assert list(shared.glob(f"gauge_live*_{first}.db"))
    hook = (
        "import sys\nfrom inference import gunicorn_conf\n"
        "gunicorn_conf.child_exit(None, type('W', (), {'pid': int(sys.argv[1])})())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook, str(first)], cwd=REPO_ROOT, env=env, timeout=120
    )
    assert done.returncode == 0
    assert not list(shared.glob(f"gauge_live*_{first}.db"))
    assert list(shared.glob(f"counter_{first}.db"))


def test_config_refuses_a_short_token_and_never_shows_one() -> None:
    with pytest.raises(ValueError, match="CDSS_METRICS_TOKEN must be a random value of 32"):
        InferenceConfig.from_env({"CDSS_METRICS_TOKEN": "short-token"})
    config = InferenceConfig.from_env({"CDSS_METRICS_TOKEN": TOKEN})
    assert config.metrics_token == TOKEN
    assert TOKEN not in repr(config)


def test_metrics_dir_is_the_servers_own(tmp_path: Path) -> None:
    """The environment file shared with the web server may name its folder; the inference
    server's gunicorn replaces it with its own, or removes it."""
    environ = {"PROMETHEUS_MULTIPROC_DIR": "/srv/web-metrics"}
    use_metrics_dir(InferenceConfig(), environ)
    assert environ == {}
    own = InferenceConfig.from_env({"CDSS_INFERENCE_METRICS_DIR": str(tmp_path)})
    environ = {"PROMETHEUS_MULTIPROC_DIR": "/srv/web-metrics"}
    use_metrics_dir(own, environ)
    assert environ == {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
