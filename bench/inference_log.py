"""``/ml/v1/history/`` p50 / p95 with 1,000,000 ``InferenceLog`` rows on PostgreSQL.

Creates (and at the end drops) the database ``cdss_bench_log``, migrates it, adds 60 users (50
clinicians, 5 ML engineers, 5 administrators) and 5,000 patients each with a care team of 1-3
clinicians, then COPYs ``--rows`` log rows spread as a real deployment would have them: 85% linked
to a patient and written by one of its care team, 15% unlinked (the seed's anonymous calls),
created over two years in insertion order, 96% ``ok`` and the rest the error outcomes, 10% batches.

``InferenceLog`` is exposed by one list only, the seed's history (``GET /ml/v1/history/``, newest
first, limit/offset, filters ``doctor`` and ``patient``), so "list" and "history" are measured as
its unfiltered first page and its filtered and deeper pages, for a clinician (sees their patients'
and their own rows) and an administrator (sees all). Each request goes through Django's test client
with a real JWT: authentication, the access filter, the page query and its count, the serializer,
and the audit events written for the page. ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest query of
each case is printed.

    .venv/bin/python bench/inference_log.py                   # load 1,000,000 rows, measure, drop
    .venv/bin/python bench/inference_log.py --keep            # keep the database for --reuse
    .venv/bin/python bench/inference_log.py --reuse           # measure an existing load again

Goal: p95 under 50 ms. Writes bench/out/inference_log.json; recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Imports from the repository root (bench.*, cdss.*).
sys.path[0] = str(ROOT)

from bench._proc import percentile, postgres_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cdss_bench_log"
OUTCOMES = [
    ("ok", 200, 96),
    ("invalid_input", 400, 2),
    ("inference_unavailable", 503, 1),
    ("inference_timeout", 504, 1),
]
AMINO = "ACDEFGHIKLMNPQRSTVWY"


def load(rows: int) -> dict[str, Any]:
    """Users, patients and care teams through the ORM; the log rows through COPY."""
    from django.db import connection

    from cdss.accounts.models import Role, User
    from cdss.patients.models import Patient

    rng = random.Random(16)
    password = uuid.uuid4().hex
    clinicians = [
        User.objects.create_user(
            f"dr{i:02d}", password=password, role=Role.CLINICIAN, first_name="Doc", last_name=f"{i}"
        )
        for i in range(50)
    ]
    for i in range(5):
        User.objects.create_user(f"ml{i}", password=password, role=Role.ML_ENGINEER)
        User.objects.create_user(f"admin{i}", password=password, role=Role.ADMIN)
    patients = Patient.objects.bulk_create(
        Patient(mrn=f"MRN{i:07d}", name=f"Patient {i:05d}", created_by=clinicians[i % 50])
        for i in range(5000)
    )
    team_model = Patient.care_team.through
    teams: dict[int, list[User]] = {}
    links = []
    for patient in patients:
        team = rng.sample(clinicians, rng.randint(1, 3))
        teams[patient.pk] = team
        links += [team_model(patient_id=patient.pk, user_id=u.pk) for u in team]
    team_model.objects.bulk_create(links)

    columns = (
        "doctor_name, patient_name, input_data, output_data, created_at, user_id, patient_id, "
        "kind, item_count, input_hash, model_name, model_version, latency_ms, outcome, "
        "http_status, error_message"
    )
    outcomes = [o for o, _, w in OUTCOMES for _ in range(w)]
    status_of = {o: s for o, s, _ in OUTCOMES}
    start = datetime.now(UTC) - timedelta(days=730)
    step = timedelta(days=730) / rows
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor underneath Django's wrapper
        with raw.copy(f"COPY sequences_inferencelog ({columns}) FROM STDIN") as copy:
            for i in range(rows):
                linked = rng.random() < 0.85
                if linked:
                    patient = patients[rng.randrange(len(patients))]
                    user = rng.choice(teams[patient.pk])
                    patient_id: int | None = patient.pk
                    patient_name = patient.name
                else:
                    user = rng.choice(clinicians)
                    patient_id, patient_name = None, ""
                outcome = rng.choice(outcomes)
                batch = rng.random() < 0.10
                items = rng.randint(2, 50) if batch else 1
                sequence = "".join(rng.choices(AMINO, k=40))
                input_data: dict[str, Any] = {"sequence": sequence, "seq_type": "protein"}
                if batch:
                    input_data = {"items": [input_data] * min(items, 3), "truncated": items > 3}
                if outcome == "ok":
                    output = {
                        "ok": True,
                        "model_name": "cdss-sequence",
                        "model_version": "seq-2026.11.3",
                        "task1": {"label": "viral", "probability": round(rng.random(), 4)},
                        "task3": {"label": "Spike", "probability": round(rng.random(), 4)},
                    }
                    error = ""
                else:
                    error = f"{outcome}: the request could not be completed"
                    output = {"ok": False, "error": error}
                copy.write_row(
                    (
                        f"Doc {user.last_name}",
                        patient_name,
                        json.dumps(input_data),
                        json.dumps(output),
                        start + step * i + timedelta(seconds=rng.random()),
                        user.pk,
                        patient_id,
                        "batch" if batch else "single",
                        items,
                        uuid.UUID(int=rng.getrandbits(128)).hex * 2,
                        "cdss-sequence" if outcome == "ok" else "",
                        "seq-2026.11.3" if outcome == "ok" else "",
                        rng.uniform(5, 80) * items,
                        outcome,
                        status_of[outcome],
                        error,
                    )
                )
    copied_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"rows": rows, "copy_s": round(copied_s, 1), "rows_per_s": round(rows / copied_s)}


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@contextlib.contextmanager
def baseline() -> Iterator[None]:
    """The history as it was before sequences/0002 and the bounded count, for comparison."""
    from django.db import connection
    from rest_framework.pagination import LimitOffsetPagination

    from cdss.sequences.apis import HistoryPagination
    from cdss.sequences.models import InferenceLog

    (index,) = (i for i in InferenceLog._meta.indexes if i.name == "seq_log_newest_idx")
    with connection.schema_editor() as editor:
        editor.remove_index(InferenceLog, index)
    bounded = HistoryPagination.get_count
    HistoryPagination.get_count = LimitOffsetPagination.get_count  # type: ignore[method-assign]
    try:
        yield
    finally:
        HistoryPagination.get_count = bounded  # type: ignore[method-assign]
        with connection.schema_editor() as editor:
            editor.add_index(InferenceLog, index)


def measure(requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.pagination import LimitOffsetPagination
    from rest_framework_simplejwt.tokens import AccessToken

    from cdss.accounts.models import User
    from cdss.sequences.apis import HistoryPagination
    from cdss.sequences.models import InferenceLog
    from cdss.sequences.selectors import inference_log_list_for_user

    clinician = User.objects.get(username="dr07")
    admin = User.objects.get(username="admin0")
    patient_name = (
        InferenceLog.objects.filter(user=clinician, patient__isnull=False)
        .values_list("patient_name", flat=True)
        .first()
    )
    cases = [
        ("clinician: first page (limit 100)", clinician, ""),
        ("clinician: limit 20", clinician, "limit=20"),
        ("clinician: offset 10,000", clinician, "limit=20&offset=10000"),
        ("clinician: doctor filter", clinician, f"doctor=Doc+{clinician.last_name}&limit=20"),
        ("clinician: patient filter", clinician, f"patient={patient_name}&limit=20"),
        ("admin: first page (limit 100)", admin, ""),
        ("admin: limit 20", admin, "limit=20"),
        ("admin: offset 500,000", admin, "limit=20&offset=500000"),
        ("admin: doctor filter", admin, "doctor=Doc+7&limit=20"),
    ]
    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    for name, user, query in cases:
        token = str(AccessToken.for_user(user))
        filters = dict(pair.split("=", 1) for pair in query.split("&") if pair)
        visible = inference_log_list_for_user(
            user=user,
            doctor=filters.get("doctor", "").replace("+", " ") or None,
            patient=filters.get("patient", "").replace("+", " ") or None,
        ).count()
        headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        url = f"/ml/v1/history/?{query}".replace(" ", "+")
        for _ in range(5):  # warm-up: connections, caches, the first plans
            assert client.get(url, **headers).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            probe = client.get(url, **headers)
        body = probe.json()
        # Read now: every request clears the connection's query log when it starts.
        queries = list(captured.captured_queries)
        slowest = max(queries, key=lambda q: float(q["time"]))
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        row = {
            "case": name,
            "query": query,
            "visible_rows": visible,
            "count_reported": body["count"],
            "page_rows": len(body["results"]),
            "queries_per_request": len(queries),
            "query_ms": [round(float(q["time"]) * 1000, 1) for q in queries],
            "requests": requests,
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
            "mean_ms": round(statistics.fmean(times), 1),
            "load_average_1m": float(Path("/proc/loadavg").read_text().split()[0]),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
            "slowest_query": slowest["sql"],
        }
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "slowest_query"}), flush=True)
    # EXPLAIN needs the parameters, which CaptureQueriesContext has only interpolated: rebuild the
    # two queries of the page (the count and the rows) from the selector itself.
    plans = {}
    for who, user in (("clinician", clinician), ("admin", admin)):
        qs = inference_log_list_for_user(user=user)
        sql, params = qs[:100].query.sql_with_params()
        plans[f"{who}: page"] = explain(sql, params)
        # The page's count as the pagination in use makes it (offset 0, limit 100).
        if HistoryPagination.get_count is LimitOffsetPagination.get_count:
            sql, params = qs.order_by().values("pk").query.sql_with_params()
        else:
            bound = 100 + HistoryPagination.COUNT_MARGIN
            sql, params = qs.values("pk")[:bound].query.sql_with_params()
        # The SQL is Django's own, its values parameters.
        plans[f"{who}: count"] = explain(f"SELECT COUNT(*) FROM ({sql}) t", params)  # noqa: S608
    for name, plan in plans.items():
        print(f"--- EXPLAIN ANALYZE {name}\n{plan}", flush=True)
    return {"cases": results, "plans": plans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="the database to create and drop")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure an existing load again")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="measure as before the fix: without seq_log_newest_idx (dropped, then rebuilt) and "
        "with DRF's exact COUNT(*)",
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    # A throwaway key: nothing this process signs outlives it.
    os.environ["DJANGO_SECRET_KEY"] = uuid.uuid4().hex * 2
    if not args.reuse:
        postgres_database(args.url, create=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    loaded: dict[str, Any] = {}
    if not args.reuse:
        loaded = load(args.rows)
        print(json.dumps(loaded), flush=True)
    try:
        if args.baseline:
            with baseline():
                measured = measure(args.requests)
        else:
            measured = measure(args.requests)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            postgres_database(args.url, create=False)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "database": args.url.rsplit("@", 1)[-1],
        "load": loaded,
        **measured,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"inference_log{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    print("| case | visible rows | count shown | p50 ms | p95 ms | max ms | load 1m |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in measured["cases"]:
        print(
            f"| {row['case']} | {row['visible_rows']:,} | {row['count_reported']:,} "
            f"| {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {row['load_average_1m']} |"
        )


if __name__ == "__main__":
    main()
