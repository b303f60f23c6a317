"""/ml/v1/history/: ``count`` is bounded past the page, and paging stays exact."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.sequences.apis import HistoryPagination
from cdss.sequences.models import InferenceLog

pytestmark = pytest.mark.django_db

HISTORY = reverse("ml-history")


@pytest.fixture
def ten_logs(clinician_a):
    InferenceLog.objects.bulk_create(
        InferenceLog(
            user=clinician_a,
            input_data={"sequence": "MKV"},
            kind="single",
            input_hash=f"{i:064d}",
            latency_ms=1.0,
            outcome="ok",
            http_status=200,
        )
        for i in range(10)
    )


@pytest.fixture
def margin_two(monkeypatch):
    monkeypatch.setattr(HistoryPagination, "COUNT_MARGIN", 2)


def test_count_is_exact_within_the_margin(make_client, clinician_a, ten_logs):
    body = make_client(clinician_a).get(HISTORY, {"limit": 4, "offset": 4}).json()
    assert body["count"] == 10  # 4 + 4 + 1,000 is past the end: every row counted
    assert len(body["results"]) == 4


def test_count_stops_past_the_page(make_client, clinician_a, ten_logs, margin_two):
    client = make_client(clinician_a)
    body = client.get(HISTORY, {"limit": 3}).json()
    assert body["count"] == 5  # offset 0 + limit 3 + margin 2: "at least"
    assert body["next"] is not None
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    # Following next reaches every row once, newest first, though no page counted them all.
    assert len(seen) == 10 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    assert body["count"] == 10  # the last page's bound (9 + 3 + 2) is past the end
