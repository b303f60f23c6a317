"""The monitoring files in deploy/ match what the code exports, checked against live scrapes.

``deploy/prometheus/alerts.yml`` and ``deploy/grafana/cdss-dashboard.json`` must load, have the
shape Prometheus and Grafana read, and name only metrics that exist: every metric in their
expressions is looked up in the exposition of Django's /metrics and of a real inference server
under gunicorn with two workers sharing CDSS_INFERENCE_METRICS_DIR (which also shows that server's
counts added up over its workers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from config.settings.base import BASE_DIR
from inference.testing import start_server

DEPLOY = BASE_DIR / "deploy"
INFERENCE_PORT = 8631  # this suite's port range: 8630-8639

# PromQL that is not a metric name: functions, keywords, and Prometheus's own series.
_NOT_METRICS = {"and", "or", "unless", "bool", "offset", "le", "inf", "nan"}
_SYNTHETIC = {"up"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_NUMBER = re.compile(r"(?<![\w])\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_VARIABLE = re.compile(r"\$\w+")
_OFFSET = re.compile(r"\boffset\s+-?\w+")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    for pattern in (_STRING, _MATCHERS, _GROUPING, _RANGE, _OFFSET, _VARIABLE, _NUMBER):
        expr = pattern.sub(" ", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        rest = expr[match.end() :].lstrip()
        if not rest.startswith("(") and match.group() not in _NOT_METRICS:
            names.add(match.group())
    return names


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, kind) (rate(a_bucket{kind="x"}[5m]))) > 1e-9 '
        "and on(kind) b_total / ignoring(x) c offset 5m"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def _series_names(text: str) -> set[str]:
    """Every series name a scrape can show: a family's own samples and, for families that have
    none yet (labelled, never observed), the names their type gives them."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return names


def _alert_rules() -> list[dict[str, object]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "cdss-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_alert_rules_have_the_shape_prometheus_reads() -> None:
    rules = _alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "CdssHigh5xxRatio",
        "CdssInferenceDown",
        "CdssQueueWaitHigh",
        "CdssAnalysesFailing",
        "CdssLoginFailureSpike",
    }
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert re.fullmatch(r"\d+[smh]", str(rule["for"]))
        assert rule["labels"]["severity"] in ("warning", "critical")  # type: ignore[index]
        assert rule["annotations"]["summary"]  # type: ignore[index]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"cdss-web", "cdss-inference"} <= jobs  # the jobs the alerts name in up{job=...}


def test_dashboard_has_the_panels_operators_need() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "cdss-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 30
    titles = " | ".join(panel["title"] for panel in dashboard["panels"])
    for needed in (
        "Request rate",
        "latency p95 by view",
        "5xx",
        "by kind and status",
        "Queue wait p95",
        "Inference latency p95 per engine",
        "Login failures",
        "WebSocket",
        "memory",
    ):
        assert needed in titles, needed
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope="module")
def inference_scrape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, float]]:
    """/metrics of a real inference server under gunicorn (two workers, one shared folder),
    after it answered /health a known number of times."""
    shared = tmp_path_factory.mktemp("prometheus")
    web = tmp_path_factory.mktemp("web-prometheus")
    env = {
        "CDSS_INFERENCE_ENGINES": "omics",
        "CDSS_INFERENCE_WORKERS": "2",
        "CDSS_INFERENCE_METRICS_DIR": str(shared),
        # The web server's folder, as a shared environment file names it: left alone.
        "PROMETHEUS_MULTIPROC_DIR": str(web),
    }
    with (
        start_server(port=INFERENCE_PORT, env=env, gunicorn=True) as server,
        httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client,
    ):
        before = _health_count(client.get("/metrics").text)
        for _ in range(20):
            assert client.get("/health").status_code == 200
        yield client.get("/metrics").text, before + 20
    assert list(shared.iterdir()) and not list(web.iterdir())


def _health_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "cdss_inference_requests_total"
        and sample.labels.get("route") == "/health"
    )


def test_inference_server_adds_up_its_gunicorn_workers(inference_scrape) -> None:
    text, expected = inference_scrape
    # Whichever worker answered each /health, the scrape counts them all (plus the probes of
    # start_server, counted in ``expected`` through the first scrape).
    assert _health_count(text) == expected
    assert 'cdss_inference_model_info{engine="omics"' in text
    pids = set(re.findall(r'cdss_inference_process_resident_memory_bytes\{pid="(\d+)"\}', text))
    assert 1 <= len(pids) <= 2


@pytest.mark.django_db
def test_every_metric_in_the_alerts_and_dashboard_is_exported(settings, inference_scrape) -> None:
    settings.CDSS_TRUSTED_PROXIES = []
    web = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert web.status_code == 200
    exported = _series_names(web.content.decode()) | _series_names(inference_scrape[0])
    referenced: dict[str, set[str]] = {}
    for rule in _alert_rules():
        referenced[f"alert {rule['alert']}"] = metric_names(str(rule["expr"]))
    for expr in _dashboard_exprs():
        referenced[f"panel {expr}"] = metric_names(expr)
    assert all(referenced.values())  # every expression names at least one metric
    missing = {
        where: names - exported - _SYNTHETIC
        for where, names in referenced.items()
        if names - exported - _SYNTHETIC
    }
    assert missing == {}


def test_files_are_where_the_readme_says() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name in (
        "grafana/cdss-dashboard.json",
        "prometheus/alerts.yml",
        "prometheus/prometheus.yml",
    ):
        assert (DEPLOY / name).is_file()
        assert name in readme
