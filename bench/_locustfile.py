"""The Locust users of ``bench/load.py``: clinicians reading patients and results, and predicting.

Not a benchmark by itself (``make bench`` skips ``_*.py``); ``bench/load.py`` runs it with
``locust -f`` against a stack it started, and passes in the environment:

- ``CDSS_LOAD_USERS``: a JSON file ``{"password": ..., "usernames": [...]}`` (the seeded
  clinicians; each simulated user signs in as the next one);
- ``CDSS_LOAD_SAMPLES``: where every request's category, name, time and outcome are written when
  the run ends, so that ``load.py`` takes percentiles over all reads and all writes (Locust's own
  statistics are per request name).

Each user signs in once, lists its patients, then, with 1-3 s of think time between actions,
does what a clinician does in the web app: lists patients (a search now and then), opens a patient
and its analyses, opens a completed analysis and its result, reads the prediction history; and
writes: single-sequence predictions linked to a patient (synchronous, through the inference
server) and small FASTA batches queued as analyses (through Celery). About one request in six
is a write.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import threading
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.exception import StopUser

# Locust imports this file by path: its folder is where load.py is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import real_proteins

PROTEINS = real_proteins()
_USERS = json.loads(Path(os.environ["CDSS_LOAD_USERS"]).read_text())
_NAMES = itertools.cycle(_USERS["usernames"])
_NAMES_LOCK = threading.Lock()
SAMPLES: list[tuple[str, str, float, bool]] = []


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
    category = name.split(":", 1)[0] if ":" in name else "other"
    SAMPLES.append((category, name, response_time, exception is None))


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    Path(os.environ["CDSS_LOAD_SAMPLES"]).write_text(json.dumps(SAMPLES))


class Clinician(HttpUser):
    wait_time = between(1, 3)  # a person's think time between actions

    def on_start(self) -> None:
        with _NAMES_LOCK:
            self.username = next(_NAMES)
        response = self.client.post(
            "/api/v1/auth/token/",
            json={"username": self.username, "password": _USERS["password"]},
            name="login: token",
        )
        if not response.ok:  # counted as an error by Locust; this user cannot go on
            raise StopUser
        self.client.headers["Authorization"] = f"Bearer {response.json()['access']}"
        listed = self.client.get("/api/v1/patients/", name="read: patient list")
        if not listed.ok:
            raise StopUser
        self.patients: list[int] = [p["id"] for p in listed.json()["results"]]
        self.patient_names = {p["id"]: p["name"] for p in listed.json()["results"]}

    def _patient(self) -> int:
        return random.choice(self.patients)

    @task(5)
    def list_patients(self) -> None:
        if random.random() < 0.3:
            term = self.patient_names[self._patient()].split()[-1]
            self.client.get(f"/api/v1/patients/?search={term}", name="read: patient search")
        else:
            self.client.get("/api/v1/patients/", name="read: patient list")

    @task(6)
    def open_patient(self) -> None:
        patient = self._patient()
        self.client.get(f"/api/v1/patients/{patient}/", name="read: patient")
        self.client.get(f"/api/v1/analyses/?patient={patient}", name="read: patient analyses")

    @task(4)
    def open_result(self) -> None:
        patient = self._patient()
        listed = self.client.get(
            f"/api/v1/analyses/?patient={patient}&status=COMPLETED",
            name="read: completed analyses",
        )
        results = listed.json().get("results") if listed.ok else None
        if not results:
            return
        analysis = random.choice(results)["id"]
        self.client.get(f"/api/v1/analyses/{analysis}/", name="read: analysis")
        self.client.get(f"/api/v1/analyses/{analysis}/result/", name="read: analysis result")

    @task(2)
    def history(self) -> None:
        self.client.get("/ml/v1/history/?limit=20", name="read: prediction history")

    @task(3)
    def predict(self) -> None:
        patient = self._patient()
        self.client.post(
            "/ml/v1/predict/",
            json={
                "sequence": random.choice(PROTEINS),
                "seq_type": "protein",
                "patient_id": patient,
                "patient_name": self.patient_names[patient],
            },
            name="write: predict",
        )

    @task(1)
    def submit_batch(self) -> None:
        fasta = "".join(f">q{i}\n{seq}\n" for i, seq in enumerate(random.sample(PROTEINS, 5)))
        self.client.post(
            "/api/v1/analyses/",
            json={"kind": "sequence_batch", "patient": self._patient(), "inputs": {"fasta": fasta}},
            name="write: batch analysis",
        )
