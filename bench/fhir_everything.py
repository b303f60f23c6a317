"""FHIR ``Patient/{id}/$everything`` p50 / p95 for a patient with 100 completed analyses.

Creates a fresh database (a SQLite file under ``var/bench/``, or with ``--url postgres://...`` a
PostgreSQL database it creates and drops) and a media folder and embedded broker of its own,
migrates, and adds a clinician, the measured patient and 20 other patients of the same care team.
The measured patient gets ``--analyses`` analyses completed through the real transition
(``analysis_complete``), a quarter each of CT (with an uploaded NIfTI volume and two liver
lesions), sequence batch (3 sequences), ROSMAP and TCGA-PAAD, with the realistic results of
``cdss/reports/tests/results.py``; each chains a Korean and an English interpretation and report,
which are run (``analysis_execute``: the template interpretation and the real PDF). The other
patients get 10 analyses each (without reports) so the queries have rows to skip.

Each timed call goes through Django's test client and the whole middleware stack with a real JWT:
authentication, the access rule, the audit event, the selectors, every resource built with
``fhir.resources`` and checked, and the JSON rendered. Cases: ``$everything`` (the goal), also
cold (the process's memory of validated content emptied before each call),
``DiagnosticReport?patient=`` and one ``Observation`` read. The query count of each is printed,
and the process's CPU time per request beside the wall time (on a shared machine the wall time
is mostly waiting for a core).

    .venv/bin/python bench/fhir_everything.py            # SQLite
    .venv/bin/python bench/fhir_everything.py --reuse    # SQLite, the last run's data
    .venv/bin/python bench/fhir_everything.py --url postgres://postgres@127.0.0.1:5432/cdss_bench_fhir

Goal: ``$everything`` under 1 s. Writes bench/out/fhir[_<tag>].json; recorded in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._proc import percentile, postgres_database  # noqa: E402


def load(total: int, others: int) -> dict[str, Any]:
    from cdss.accounts.models import Role, User
    from cdss.interop.tests import fhir_fixtures as fx
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

    clinician = User.objects.create_user("dr00", password=uuid.uuid4().hex, role=Role.CLINICIAN)
    patient = Patient.objects.create(
        mrn="MRN0000001", name="Measured Patient", created_by=clinician
    )
    patient.care_team.set([clinician])
    makers = (fx.completed_ct, fx.completed_sequences, fx.completed_rosmap, fx.completed_paad)
    started = time.perf_counter()
    for i in range(total):
        makers[i % len(makers)](patient, clinician)
    for j in range(others):
        other = Patient.objects.create(mrn=f"MRN{j + 2:07d}", name=f"Other {j}")
        other.care_team.set([clinician])
        for i in range(10):
            makers[i % len(makers)](other, clinician, chained=False)
    return {
        "patient": patient.pk,
        "analyses_of_patient": total,
        "other_patients": others,
        "analyses_in_db": Analysis.objects.count(),
        "load_s": round(time.perf_counter() - started, 1),
    }


def reused() -> dict[str, Any]:
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

    patient = Patient.objects.get(mrn="MRN0000001")
    return {
        "patient": patient.pk,
        "analyses_of_patient": Analysis.objects.filter(patient=patient)
        .exclude(kind__in=["interpretation", "report"])
        .count(),
        "analyses_in_db": Analysis.objects.count(),
        "reused": True,
    }


def measure(patient_id: int, requests: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from cdss.accounts.models import User
    from cdss.interop.fhir.resources import validated_clear
    from cdss.jobs.models import Analysis

    user = User.objects.get(username="dr00")
    token = str(RefreshToken.for_user(user).access_token)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    ct = Analysis.objects.filter(patient_id=patient_id, kind="ct").order_by("pk").first()
    assert ct is not None
    everything = f"/fhir/r4/Patient/{patient_id}/$everything"
    # (name, url, cold): cold forgets, before each call, which content was validated already
    # (cdss.interop.fhir.resources.finish), as the first read of a record after a restart.
    cases = [
        ("Patient/{id}/$everything", everything, False),
        ("Patient/{id}/$everything, cold (nothing validated before)", everything, True),
        (
            "DiagnosticReport?patient={id}",
            f"/fhir/r4/DiagnosticReport?patient={patient_id}",
            False,
        ),
        (
            "Observation/{id} (CT organ volumes)",
            f"/fhir/r4/Observation/a{ct.pk}-organ-volumes",
            False,
        ),
    ]
    rows = []
    for name, url, cold in cases:
        for _ in range(3):  # warm-up: connections, first plans, imports
            assert client.get(url).status_code == 200
        executed: list[str] = []

        def count(
            execute: Any,
            sql: str,
            params: Any,
            many: bool,
            context: Any,
            seen: list[str] = executed,
        ) -> Any:
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            probe = client.get(url)
        body = probe.json()
        times, cpu = [], []
        for _ in range(requests):
            if cold:
                validated_clear()
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code} {response.content[:200]!r}")
        row = {
            "case": name,
            "entries": len(body.get("entry", [])) if body["resourceType"] == "Bundle" else 1,
            "bytes": len(probe.content),
            "queries_per_request": len(executed),
            "requests": requests,
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
            "mean_ms": round(statistics.fmean(times), 1),
            # This process's CPU time (with SQLite, the database's work too; not PostgreSQL's):
            # what a request costs when it has a core to itself.
            "cpu_p50_ms": round(percentile(cpu, 50), 1),
            "cpu_p95_ms": round(percentile(cpu, 95), 1),
            "load_average_1m": float(Path("/proc/loadavg").read_text().split()[0]),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="", help="postgres://... (default: a SQLite file)")
    parser.add_argument("--analyses", type=int, default=100)
    parser.add_argument("--others", type=int, default=20, help="other patients, 10 analyses each")
    parser.add_argument("--requests", type=int, default=50, help="timed calls per case")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the SQLite file of the last run again"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="fhir-bench-"))
    if args.url:
        postgres_database(args.url, create=True)
        url = args.url
    else:
        sqlite = ROOT / "var" / "bench" / "fhir.sqlite3"
        sqlite.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm") if not args.reuse else ():
            Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite}"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
            # A throwaway key: nothing this process signs outlives it.
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            # Files and the chained jobs' queue of this run only, never a running system's.
            "CDSS_MEDIA_ROOT": str(tmp / "media"),
            "CDSS_JOBS_BROKER_FILE": str(tmp / "broker.sqlite3"),
        }
    )
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", "--noinput", verbosity=0)
    try:
        loaded = load(args.analyses, args.others) if not args.reuse else reused()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(json.dumps(loaded), flush=True)
        cases = measure(loaded["patient"], args.requests)
    finally:
        connections.close_all()
        if args.url:
            postgres_database(args.url, create=False)
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "database": connection.vendor,
        "load": loaded,
        "cases": cases,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fhir{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    print("| case | entries | queries | p50 ms | p95 ms | max ms | CPU p50 / p95 ms | load 1m |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in cases:
        print(
            f"| {row['case']} | {row['entries']} | {row['queries_per_request']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['max_ms']} | {row['cpu_p50_ms']} / {row['cpu_p95_ms']} "
            f"| {row['load_average_1m']} |"
        )


if __name__ == "__main__":
    main()
