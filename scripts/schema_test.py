"""``make schema-test``: the OpenAPI schema checked against a live server with Schemathesis.

In a temporary folder, on free loopback ports, this starts what a deployment runs: the inference
server (``python -m inference``, the sequence and omics engines, which the /ml/v1 and omics
routes call; the imaging engine is not needed yet), a fresh SQLite database with one user of each
role and a few objects to find (patient 1; a completed, a failed and a pending analysis; the
completed one with a stored file), and the web server (Uvicorn on ``config.asgi``). No Celery
worker runs: queued work stays PENDING, so a fuzzed ``/ml/v1/retrain/`` never starts a retraining
run; what is under test is the API's answers.

Then ``st run`` (settings in ``scripts/schemathesis.toml``) sends generated requests, and the
schema's examples, to every operation of ``/api/schema/`` with a fixed seed and a bounded number
of examples. It fails on a server error, an undocumented status or header, a body that does not
match its schema or Content-Type, or a route that ignores authentication. The admin routes run as
an administrator, retraining as an ML engineer, logout and password change each as a user of its
own (a logout ends every token of its user; wrong old passwords throttle theirs), everything else
as a clinician. Arguments after ``--`` go to ``st run`` (e.g. ``-- --max-examples 5``). The web
server's log is left in ``var/schema-test-web.log``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inference.testing import ServerHandle, free_port, start_server  # noqa: E402

BIN = Path(sys.executable).parent
CONFIG = REPO / "scripts" / "schemathesis.toml"
STARTUP_TIMEOUT = 90.0
POLL = 0.1

SEED = """
import json
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from cdss.accounts.models import Role, User
from cdss.jobs.models import Analysis, AnalysisResult, Status
from cdss.patients.models import Patient

def user(name, role, **extra):
    return User.objects.create_user(name, password=None, role=role, **extra)

clinician = user("st_clinician", Role.CLINICIAN)
users = {
    "clinician": clinician,
    "logout": user("st_logout", Role.CLINICIAN),
    "password": user("st_password", Role.CLINICIAN),
    "admin": user("st_admin", Role.ADMIN, is_staff=True),
    "ml_engineer": user("st_ml_engineer", Role.ML_ENGINEER),
}
patient = Patient.objects.create(mrn="ST-0001", name="Schema Test", created_by=clinician)
patient.care_team.set([clinician])
now = timezone.now()
common = {"kind": "sequence_batch", "patient": patient, "requested_by": clinician,
          "inputs": {"items": [{"id": "s1", "sequence": "MKV", "seq_type": "protein"}]}}
done = Analysis.objects.create(status=Status.COMPLETED, completed_at=now, **common)
AnalysisResult.objects.create(analysis=done, data={
    "ok": True, "batch": True, "model_name": "", "model_version": "", "count": 1,
    "ok_count": 0, "failed_count": 1,
    "results": [{"ok": False, "index": 0, "id": "s1", "error": "too short"}]})
# One stored file of the completed analysis, for the artifact routes' 200s (written over any
# left by an earlier run: the test settings' MEDIA_ROOT is var/test-media).
import hashlib
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from cdss.jobs.models import AnalysisArtifact, artifact_path
png = bytes.fromhex("89504e470d0a1a0a") + bytes(24)
default_storage.delete(artifact_path(done.pk, "plot.png"))
AnalysisArtifact.objects.create(
    analysis=done, name="plot.png", content_type="image/png", size=len(png),
    sha256=hashlib.sha256(png).hexdigest(),
    file=default_storage.save(artifact_path(done.pk, "plot.png"), ContentFile(png)))
Analysis.objects.create(status=Status.FAILED, failed_at=now, error_code="internal_error",
                        error_message="seeded", **common)
Analysis.objects.create(status=Status.PENDING, enqueued_at=now, next_attempt_at=now, **common)
tokens = {name: str(AccessToken.for_user(u)) for name, u in users.items()}
print("SEED" + json.dumps(tokens))
"""


def _environment(root: Path, inference_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "CDSS_", "JWT_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            # One key for every process of the run: the seed signs the tokens the server checks.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "JWT_ACCESS_MINUTES": "120",
            "DATABASE_URL": f"sqlite:///{root / 'cdss.sqlite3'}",
            "CDSS_MEDIA_ROOT": str(root / "media"),
            "CDSS_JOBS_BROKER_FILE": str(root / "broker.sqlite3"),
            "CDSS_INFERENCE_URL": inference_url,
            # Small, so the schema's examples reach both answers of /ml/v1/predict/: a batch of
            # two is answered at once (200), the three-record FASTA example is queued (202).
            "CDSS_SYNC_BATCH_MAX": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _answers(url: str) -> bool:
    import http.client
    from urllib.parse import urlparse

    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=2)
    try:
        connection.request("GET", parsed.path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def _web_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = free_port()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(f"{url}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the web server did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(POLL)  # the poll interval, not a wait for a fixed time
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(st_args: list[str]) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cdss-schema-test-") as tmp:
        root = Path(tmp)
        inference: ServerHandle = start_server(
            env={"CDSS_INFERENCE_ENGINES": "sequence,omics"}, startup_timeout=STARTUP_TIMEOUT
        )
        try:
            env = _environment(root, inference.url)
            _manage(env, "migrate", "--noinput", "-v0")
            seed = _manage(env, "shell", "-c", SEED)
            tokens = json.loads(next(x for x in seed.splitlines() if x.startswith("SEED"))[4:])
            with _web_server(env, root / "web.log") as url:
                print(f"schema-test: stack up in {time.monotonic() - started:.0f} s at {url}")
                st_env = {
                    **env,
                    **{f"CDSS_ST_{name.upper()}_TOKEN": token for name, token in tokens.items()},
                }
                argv = [
                    str(BIN / "st"),
                    "--config-file",
                    str(CONFIG),
                    "run",
                    f"{url}/api/schema/",
                    *st_args,
                ]
                code = subprocess.run(argv, cwd=REPO, env=st_env, check=False).returncode  # noqa: S603
            kept = REPO / "var" / "schema-test-web.log"
            kept.parent.mkdir(exist_ok=True)
            kept.write_text((root / "web.log").read_text(errors="replace"))
            print(f"schema-test: the web server's log is in {kept}")
        finally:
            inference.stop()
    print(f"schema-test: finished in {time.monotonic() - started:.0f} s (exit {code})")
    return code


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[1:] if args[:1] == ["--"] else args))
