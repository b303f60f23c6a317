"""JSON logs: one line per request and per analysis step, with the fields an operator searches
by, and never a patient's name, MRN or search text.

The lines are read as the console handler writes them (cdss.common.logging.JsonFormatter) and
parsed with json.loads.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

import pytest

from cdss.common.logging import JsonFormatter, RequestIdFilter
from cdss.jobs import services
from cdss.jobs.kinds import register_kinds
from cdss.jobs.tests.kinds import KINDS
from config.settings.base import BASE_DIR

register_kinds(*KINDS)

NAME = "Hong Gildong"
MRN = "MRN-SECRET-1"


class _Lines(logging.Handler):
    """What the console handler would print: every record, through the filter and formatter."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def parsed(self, logger: str) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.lines]
        return [line for line in lines if line["logger"] == logger]


@pytest.fixture
def log_lines():
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_formatter_writes_one_json_object_with_the_extra_fields():
    record = logging.LogRecord("cdss.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    record.request_id = "rid-1"
    record.route = "/api/v1/x/"
    record.when = object()  # not JSON: written as its str
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "a b"
    assert (data["level"], data["logger"], data["request_id"]) == ("WARNING", "cdss.x", "rid-1")
    assert data["route"] == "/api/v1/x/"
    assert data["when"].startswith("<object object")
    assert data["ts"].endswith("+00:00")


def test_formatter_keeps_the_traceback_in_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "cdss.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    data = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in data["exc_info"]


@pytest.mark.django_db
def test_request_lines_name_the_route_and_never_the_patient(make_client, clinician_a, log_lines):
    client = make_client(clinician_a)
    created = client.post(
        "/api/v1/patients/",
        {"mrn": MRN, "name": NAME, "sex": "male", "care_team": [clinician_a.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    patient_id = created.json()["id"]
    found = client.get("/api/v1/patients/", {"search": NAME})
    assert found.status_code == 200 and found.json()["count"] == 1
    assert client.get("/api/v1/patients/", {"search": MRN}).status_code == 200
    assert client.get(f"/api/v1/patients/{patient_id}/").status_code == 200
    assert make_client().get("/api/v1/patients/").status_code == 401

    requests = log_lines.parsed("cdss.request")
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/api/v1/patients/", 201),
        ("GET", "/api/v1/patients/", 200),
        ("GET", "/api/v1/patients/", 200),
        ("GET", "/api/v1/patients/<id:patient_id>/", 200),
        ("GET", "/api/v1/patients/", 401),
    ]
    for line in requests:
        assert line["type"] == "request"
        assert len(line["request_id"]) == 32  # made by RequestIdMiddleware
        assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert [r["user_id"] for r in requests] == [clinician_a.pk] * 4 + [None]
    assert len({r["request_id"] for r in requests}) == len(requests)
    everything = "\n".join(log_lines.lines)
    for secret in (NAME, "Hong", "Gildong", MRN, "search="):
        assert secret not in everything


@pytest.mark.django_db
def test_job_lines_follow_the_analysis_and_never_the_patient(
    clinician_a, monkeypatch, log_lines, django_capture_on_commit_callbacks
):
    from cdss.patients.tests.factories import PatientFactory
    from config.celery import app

    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)
    patient = PatientFactory(name=NAME, mrn=MRN, care_team=[clinician_a])
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_submit(
            user=clinician_a, kind="test_patient_hold", patient=patient, inputs={"seconds": 0}
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_execute(analysis_id=analysis.pk)

    jobs = log_lines.parsed("cdss.jobs.lifecycle")
    assert [(j["event"], j["attempt"]) for j in jobs] == [
        ("queued", 0),
        ("started", 1),
        ("completed", 1),
    ]
    for line in jobs:
        assert (line["type"], line["analysis_id"], line["kind"]) == (
            "job",
            analysis.pk,
            "test_patient_hold",
        )
    assert "queue_wait_ms" in jobs[1] and "duration_ms" not in jobs[1]
    assert jobs[2]["duration_ms"] >= 0
    everything = "\n".join(log_lines.lines)
    assert NAME not in everything and MRN not in everything


def _settings_in_child(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "DJANGO_SECRET_KEY": "k" * 64,
        "DJANGO_ALLOWED_HOSTS": "cdss.example.org",
    }
    child_env.pop("CDSS_LOG_FORMAT", None)
    child_env.update(env)
    code = (
        "from django.conf import settings\n"
        "print(settings.LOGGING['handlers']['console']['formatter'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "env", "expected"),
    [
        ("config.settings.production", {}, "json"),
        ("config.settings.production", {"CDSS_LOG_FORMAT": "text"}, "text"),
        ("config.settings.local", {}, "text"),
        ("config.settings.local", {"CDSS_LOG_FORMAT": "json"}, "json"),
    ],
)
def test_log_format_by_settings(module, env, expected):
    done = _settings_in_child(module, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_unknown_log_format_is_refused():
    done = _settings_in_child("config.settings.production", CDSS_LOG_FORMAT="xml")
    assert done.returncode != 0
    assert "CDSS_LOG_FORMAT must be one of json, text" in done.stderr
