"""Reliability with real processes: Uvicorn, a Celery worker and Celery beat on a fresh database,
once on the embedded broker (SQLite file) and once on Redis (127.0.0.1:6379).

- 50 jobs; the worker is killed with SIGKILL mid-run and restarted: all 50 end COMPLETED with
  exactly one result each.
- Inference server down: jobs retry, then end FAILED with ``inference_unavailable``; once the
  server is up, a retry succeeds. A job that always crashes ends FAILED and does not loop.
- WebSocket across processes: status changes made in the worker reach the right clinician's
  socket, never another's; a bad origin or an expired token is refused before any message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from cdss.jobs.tests.stack import Stack, running_stack, wait_for
from inference.testing import start_server

JOBS = 50


@pytest.fixture(scope="module", params=["embedded", "redis"])
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    root: Path = tmp_path_factory.mktemp(f"jobs-{request.param}")
    with running_stack(root, broker=request.param) as running:
        yield running


def test_sigkill_mid_run_loses_nothing(stack: Stack) -> None:
    client = stack.client("a")
    patient = stack.ids["patient_a"]
    ids = [
        stack.submit(client, "test_patient_hold", patient=patient, inputs={"seconds": 0.25})
        for _ in range(JOBS)
    ]

    def running() -> list[int]:
        rows = stack.db.query("SELECT id FROM jobs_analysis WHERE status = 'PROCESSING'")
        return [row[0] for row in rows]

    killed: list[int] = []
    completed = 0
    # A kill can land between two jobs, with nothing mid-run; then restart and kill again. The
    # worker is restarted before any assertion, so a failure here cannot starve later tests.
    for _ in range(5):
        wait_for(
            lambda: stack.count("COMPLETED", ids) >= 5 and running(),
            timeout=60,
            what="jobs running after a few completed",
            log=stack.logs,
        )
        stack.kill_worker()
        killed = running()  # nobody is left to finish these: the kill landed in the middle of them
        completed = stack.count("COMPLETED", ids)
        stack.start_worker()
        if killed:
            break
    assert killed and completed < JOBS
    wait_for(
        lambda: stack.count("COMPLETED", ids) == JOBS,
        timeout=120,
        what=f"all {JOBS} jobs COMPLETED",
        log=stack.logs,
    )
    marks = ",".join("?" * len(ids))
    results = stack.db.query(
        f"SELECT analysis_id, COUNT(*) FROM jobs_analysisresult "  # noqa: S608
        f"WHERE analysis_id IN ({marks}) GROUP BY analysis_id",
        *ids,
    )
    assert sorted(r[0] for r in results) == sorted(ids)
    assert all(r[1] == 1 for r in results)
    # The jobs that were running when the worker died ran again (a second attempt).
    for analysis_id in killed:
        status, _, attempts = stack.status_of(analysis_id)
        assert status == "COMPLETED" and attempts >= 2, (analysis_id, attempts)


def test_inference_down_then_back_and_a_crashing_job(stack: Stack) -> None:
    client = stack.client("a")
    needs_inference = stack.submit(client, "test_inference_health")
    crashes = stack.submit(client, "test_crash")

    assert stack.wait_status(needs_inference, "FAILED") == ("FAILED", "inference_unavailable", 3)
    detail = client.get(f"/api/v1/analyses/{needs_inference}/").json()
    assert detail["error"]["code"] == "inference_unavailable"
    assert "unavailable" in detail["error"]["message"] and "Traceback" not in json.dumps(detail)
    assert stack.wait_status(crashes, "FAILED") == ("FAILED", "internal_error", 3)

    def processing_events(analysis_id: int) -> int:
        return int(
            stack.db.scalar(
                "SELECT COUNT(*) FROM jobs_analysisevent WHERE analysis_id = ? "
                "AND status = 'PROCESSING'",
                analysis_id,
            )
        )

    assert processing_events(needs_inference) == 3
    crash_events = stack.db.scalar(
        "SELECT COUNT(*) FROM jobs_analysisevent WHERE analysis_id = ?", crashes
    )

    with start_server(port=stack.inference_port, env={"CDSS_INFERENCE_ENGINES": ""}):
        retried = client.post(f"/api/v1/analyses/{needs_inference}/retry/")
        assert retried.status_code == 202, retried.text
        stack.wait_status(needs_inference, "COMPLETED")
    result = client.get(f"/api/v1/analyses/{needs_inference}/result/").json()
    assert result["health"]["ok"] is True

    # Sweeps ran meanwhile (every second); the crashed job stayed FAILED, untouched.
    assert stack.status_of(crashes) == ("FAILED", "internal_error", 3)
    assert (
        stack.db.scalar("SELECT COUNT(*) FROM jobs_analysisevent WHERE analysis_id = ?", crashes)
        == crash_events
    )


def _socket(stack: Stack, token: str, origin: str = "http://127.0.0.1") -> ClientConnection:
    return connect(
        stack.ws_url,
        origin=Origin(origin),
        subprotocols=[Subprotocol("cdss.bearer"), Subprotocol(token)],
        open_timeout=10,
    )


def _next_event(socket: ClientConnection) -> dict:
    return json.loads(socket.recv(timeout=20))


def test_websocket_pushes_worker_changes_to_the_right_clinician_only(stack: Stack) -> None:
    with _socket(stack, stack.tokens["a"]) as sock_a, _socket(stack, stack.tokens["b"]) as sock_b:
        assert sock_a.subprotocol == "cdss.bearer"
        mine = stack.submit(stack.client("a"), "test_patient_hold", patient=stack.ids["patient_a"])
        got = [_next_event(sock_a) for _ in range(3)]
        # PENDING comes from the web process; PROCESSING and COMPLETED from the worker process.
        assert [(e["analysis_id"], e["status"]) for e in got] == [
            (mine, "PENDING"),
            (mine, "PROCESSING"),
            (mine, "COMPLETED"),
        ]
        theirs = stack.submit(
            stack.client("b"), "test_patient_hold", patient=stack.ids["patient_b"]
        )
        # B's socket also saw A's events go by its group; if its first event is its own, A's
        # were never delivered to it.
        assert _next_event(sock_b)["analysis_id"] == theirs


@pytest.mark.parametrize("case", ["bad_origin", "expired_token"])
def test_websocket_refuses_before_any_message(stack: Stack, case: str) -> None:
    token = stack.tokens["a"]
    origin = "http://127.0.0.1"
    if case == "bad_origin":
        origin = "https://evil.example.com"
    else:
        token = _expired_token_like(stack, token)
    with pytest.raises(InvalidStatus) as refused:
        _socket(stack, token, origin=origin)
    assert refused.value.response.status_code == 403


def _expired_token_like(stack: Stack, token: str) -> str:
    """A token for the same user, signed with the stack's key, that expired a minute ago."""
    from rest_framework_simplejwt.tokens import AccessToken

    expired = AccessToken(token, verify=False)
    expired.set_exp(lifetime=timedelta(minutes=-1))
    return str(expired)
