"""CDS Hooks ``patient-view`` p50 / p95 with 10,000 analyses in the database (SQLite or PostgreSQL).

Creates a fresh database (a SQLite file under ``var/bench/``, or with ``--url postgres://...`` a
PostgreSQL database it creates and drops), migrates it, adds 20 clinicians, an administrator and
300 patients (care teams of 1-3), then ``--analyses`` analyses spread over the patients with one
"heavy" patient holding ``--heavy`` of them: 40% of a kind that makes a card (sequence batch,
ROSMAP, TCGA-PAAD, CT, with the realistic results of ``cdss/reports/tests/results.py``), 60% the
chained ``interpretation`` and ``report`` analyses, 90% COMPLETED and the rest PENDING / FAILED,
created over a year.

Each timed call goes through Django's test client and the whole middleware stack: the RS384 JWT
(signed beforehand by the benchmark's own EHR key, its JWK Set in a file, a new ``jti`` per call)
is verified, the request validated, the patient found by MRN through the access rule, the card
query run, the cards built and recorded, and the audit event written. Cases: a typical patient,
the heavy patient, the heavy patient seen by an administrator, and a clinician outside the care
team (no cards). The card query's plan is printed.

    .venv/bin/python bench/cds_hooks.py                                        # SQLite
    .venv/bin/python bench/cds_hooks.py --url postgres://postgres@127.0.0.1:5432/cdss_bench_cds

Goal: p95 under 500 ms. Writes bench/out/cds_hooks[_<tag>].json; recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Imports from the repository root (bench.*, cdss.*).
sys.path[0] = str(ROOT)

from bench._proc import percentile, postgres_database  # noqa: E402

PUBLIC_URL = "https://cdss.example.org"
ISSUER = "https://ehr.bench.example.org"
CARD_KINDS = ("sequence_batch", "omics_rosmap", "omics_paad_survival", "ct")


def load(total: int, heavy: int) -> dict[str, Any]:
    from cdss.accounts.models import Role, User
    from cdss.jobs.models import Analysis, AnalysisResult, Status
    from cdss.patients.models import Patient
    from cdss.reports.tests.results import CT, PAAD, ROSMAP, sequence_batch

    rng = random.Random(16)
    password = uuid.uuid4().hex
    clinicians = [
        User.objects.create_user(f"dr{i:02d}", password=password, role=Role.CLINICIAN)
        for i in range(20)
    ]
    User.objects.create_user("admin0", password=password, role=Role.ADMIN)
    patients = Patient.objects.bulk_create(
        Patient(mrn=f"MRN{i:07d}", name=f"Patient {i:05d}", created_by=clinicians[i % 20])
        for i in range(300)
    )
    team_model = Patient.care_team.through
    links = [team_model(patient_id=patients[0].pk, user_id=clinicians[0].pk)]
    links.append(team_model(patient_id=patients[1].pk, user_id=clinicians[0].pk))
    for patient in patients[2:]:
        links += [
            team_model(patient_id=patient.pk, user_id=u.pk)
            for u in rng.sample(clinicians[1:], rng.randint(1, 3))
        ]
    team_model.objects.bulk_create(links)

    results = {
        "sequence_batch": sequence_batch(0.9731, 0.12, 0.77),
        "omics_rosmap": ROSMAP,
        "omics_paad_survival": PAAD,
        "ct": CT,
    }
    start = datetime.now(UTC) - timedelta(days=365)
    rows = []
    for i in range(total):
        # patients[0] is the heavy one; the rest share what is left.
        patient = patients[0] if i < heavy else patients[1 + (i % (len(patients) - 1))]
        kind = (
            rng.choice(CARD_KINDS)
            if rng.random() < 0.4
            else rng.choice(("interpretation", "report"))
        )
        roll = rng.random()
        status = Status.COMPLETED if roll < 0.9 else (Status.PENDING if roll < 0.95 else "FAILED")
        created = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        rows.append(
            Analysis(
                kind=kind,
                patient=patient,
                requested_by=clinicians[0],
                status=status,
                inputs={},
                model_name=str(results.get(kind, {}).get("model_name", "cdss-interpretation")),
                model_version=str(results.get(kind, {}).get("model_version", "2026.11.1")),
                completed_at=created + timedelta(seconds=30)
                if status == Status.COMPLETED
                else None,
            )
        )
    started = time.perf_counter()
    analyses = Analysis.objects.bulk_create(rows, batch_size=1000)
    # created_at is auto_now_add: spread it over the year afterwards, as a real history is.
    for analysis, row in zip(analyses, rows, strict=True):
        analysis.created_at = row.completed_at or start + timedelta(days=rng.uniform(0, 365))
    Analysis.objects.bulk_update(analyses, ["created_at"], batch_size=1000)
    AnalysisResult.objects.bulk_create(
        (
            AnalysisResult(
                analysis=a,
                data=results.get(a.kind, {"text": "Interpretation or report.", "ok": True}),
            )
            for a in analyses
            if a.status == Status.COMPLETED
        ),
        batch_size=1000,
    )
    return {
        "analyses": total,
        "heavy_patient_analyses": heavy,
        "patients": len(patients),
        "load_s": round(time.perf_counter() - started, 1),
    }


def _ehr(tmp: Path) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "bench-1"}
    path = tmp / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return key, str(path)


def measure(key: Any, requests: int) -> dict[str, Any]:
    import jwt
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cdss.accounts.models import User
    from cdss.interop.cds_hooks.rules import CARD_KINDS as KINDS
    from cdss.interop.cds_hooks.selectors import cds_card_analyses
    from cdss.patients.models import Patient

    heavy, typical = Patient.objects.order_by("pk")[:2]
    clinician = User.objects.get(username="dr00")
    cases = [
        ("typical patient, its clinician", typical.mrn, "dr00"),
        ("heavy patient, its clinician", heavy.mrn, "dr00"),
        ("heavy patient, an administrator", heavy.mrn, "admin0"),
        ("heavy patient, a clinician outside the care team", heavy.mrn, "dr05"),
    ]
    aud = f"{PUBLIC_URL}/cds-services/cdss-patient-view"

    def token() -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "bench", "aud": aud, "iat": now, "exp": now + 300}
        return jwt.encode(
            {**claims, "jti": uuid.uuid4().hex}, key, algorithm="RS384", headers={"kid": "bench-1"}
        )

    client = Client(HTTP_HOST="127.0.0.1")
    rows = []
    for name, mrn, username in cases:

        def body(mrn: str = mrn, username: str = username) -> dict[str, Any]:
            return {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"patientId": mrn, "userId": f"Practitioner/{username}"},
            }

        def call(auth: str, payload: dict[str, Any]) -> Any:
            return client.post(
                "/cds-services/cdss-patient-view",
                data=payload,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {auth}",
            )

        for _ in range(5):  # warm-up: the JWK Set cache, connections, the first plans
            assert call(token(), body()).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            probe = call(token(), body())
        cards = probe.json()["cards"]
        queries = list(captured.captured_queries)
        # Signed before the clock starts: the EHR's signing is not our latency.
        prepared = [(token(), body()) for _ in range(requests)]
        times, cpu = [], []
        for auth, payload in prepared:
            t0, c0 = time.perf_counter(), time.process_time()
            response = call(auth, payload)
            times.append((time.perf_counter() - t0) * 1000)
            # This process's CPU only (with PostgreSQL the server's work is not in it): what the
            # call costs when the cores are shared, as they were in the recorded runs.
            cpu.append((time.process_time() - c0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code} {response.content[:200]!r}")
        row = {
            "case": name,
            "cards": len(cards),
            "queries_per_request": len(queries),
            "requests": requests,
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
            "mean_ms": round(statistics.fmean(times), 1),
            "cpu_p50_ms": round(percentile(cpu, 50), 1),
            "cpu_p95_ms": round(percentile(cpu, 95), 1),
            "load_average_1m": float(Path("/proc/loadavg").read_text().split()[0]),
            "slowest_query_ms": round(max(float(q["time"]) for q in queries) * 1000, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    qs = cds_card_analyses(user=clinician, patient=heavy, limit=10)
    sql, params = qs.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        plan = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
    print(f"--- card query plan ({', '.join(KINDS)})\n{plan}", flush=True)
    return {"cases": rows, "card_query_plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="", help="postgres://... (default: a SQLite file)")
    parser.add_argument("--analyses", type=int, default=10_000)
    parser.add_argument("--heavy", type=int, default=2_000, help="analyses of one patient")
    parser.add_argument("--requests", type=int, default=200, help="timed calls per case")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cds-bench-"))
    if args.url:
        postgres_database(args.url, create=True)
        url = args.url
    else:
        sqlite = ROOT / "var" / "bench" / "cds_hooks.sqlite3"
        sqlite.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite}"
    key, jwks_path = _ehr(tmp)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Persistent connections, as deploy/cdss.env.example runs production (0 would time
            # a new PostgreSQL connection per call).
            "DATABASE_CONN_MAX_AGE": "60",
            # A throwaway key: nothing this process signs outlives it.
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            "CDSS_PUBLIC_URL": PUBLIC_URL,
            "CDSS_CDS_HOOKS_CLIENTS": json.dumps(
                [{"issuer": ISSUER, "jwks_path": jwks_path, "user_mode": "named"}]
            ),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", "--noinput", verbosity=0)
    try:
        loaded = load(args.analyses, args.heavy)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(json.dumps(loaded), flush=True)
        measured = measure(key, args.requests)
    finally:
        connections.close_all()
        if args.url:
            postgres_database(args.url, create=False)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "database": connection.vendor,
        "load": loaded,
        **measured,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cds_hooks{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    print("| case | cards | queries | p50 ms | p95 ms | max ms | CPU p50 / p95 ms | load 1m |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in measured["cases"]:
        print(
            f"| {row['case']} | {row['cards']} | {row['queries_per_request']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['max_ms']} | {row['cpu_p50_ms']} / {row['cpu_p95_ms']} "
            f"| {row['load_average_1m']} |"
        )


if __name__ == "__main__":
    main()
