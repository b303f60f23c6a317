"""Debian's nginx with the repository's ``deploy/nginx/cdss.conf`` and a self-signed certificate,
in front of the web app started the production way (gunicorn with ``deploy/gunicorn.conf.py`` and
Uvicorn workers on a unix socket, ``config.settings.production``, a fresh SQLite database), and the
inference server on loopback; every check is a request from outside, over HTTP or HTTPS.

What is tested is the shipped file: ``render_site`` replaces only its listen addresses, certificate
paths, socket and folders, and each literal it replaces must be there. Nginx's workers run as the
user running gunicorn here (in production www-data, in the cdss group); the file modes that
sharing needs are checked on their own (``test_stored_patient_files_are_readable_by_nginx``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from tests.deploy.tools import REPO, require_tool, start, stop, tail, wait_for

HOST = "cdss.example.org"
# This test's ports (8640-8659 are set aside for it).
HTTP_PORT, HTTPS_PORT, INFERENCE_PORT = 8640, 8641, 8642
CONF = REPO / "deploy" / "nginx" / "cdss.conf"
# The production commands (deploy/systemd/cdss-web.service, cdss-inference.service), in this venv;
# the inference server on Werkzeug rather than gunicorn, which changes nothing nginx could reach.
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
INFERENCE = [sys.executable, "-m", "inference"]
# Static files of other apps, left out of collectstatic: 20 MB that take a minute to compress on a
# small machine and add nothing to what is tested (the web app's are the ones nginx is tested with).
NOT_COLLECTED = ("admin", "drf_spectacular_sidecar", "rest_framework")
NOT_FOUND = {"error": "Not found.", "detail": {}}
# A patient's name, sent only in query strings: it must not reach the access log.
SEARCH_NAME = "Hong-Gildong-" + uuid.uuid4().hex[:8]


@dataclasses.dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclasses.dataclass
class Stack:
    root: Path
    media: Path
    static: Path
    access_log: Path
    context: ssl.SSLContext
    username: str
    password: str
    # What nginx answered before gunicorn started.
    without_web: Reply | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        tls: bool = True,
        port: int | None = None,
    ) -> Reply:
        """One request to nginx on 127.0.0.1, as a client that resolved ``HOST`` there (SNI and
        Host are the host name); ``port`` given: straight to that port, without TLS."""
        if port is not None:
            conn: http.client.HTTPConnection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30
            )
        elif tls:
            conn = _TlsConnection(HOST, HTTPS_PORT, context=self.context, timeout=30)
        else:
            conn = _PlainConnection(HOST, HTTP_PORT, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def token(self) -> str:
        reply = self.request(
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": self.username, "password": self.password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert reply.status == 200, reply.body
        return str(reply.json()["access"])  # type: ignore[index]


class _PlainConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)


class _TlsConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def render_site(text: str, *, root: Path, sock: Path, static: Path, media: Path) -> str:
    """The shipped site file with this machine's addresses and folders in place of production's."""
    render = [
        ("listen 80;", f"listen 127.0.0.1:{HTTP_PORT};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{HTTPS_PORT} ssl http2;"),
        # IPv6 may be off where the tests run; the IPv4 listens above carry every check.
        ("listen [::]:80;", "# (IPv6 listen: not in the test)"),
        ("listen [::]:443 ssl http2;", "# (IPv6 listen: not in the test)"),
        (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(root / "tls" / "cert.pem")),
        (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(root / "tls" / "key.pem")),
        ("unix:/run/cdss/web.sock", f"unix:{sock}"),
        ("/opt/cdss/var/static/", f"{static}/"),
        ("/opt/cdss/var/media/", f"{media}/"),
        ("/var/log/nginx/cdss.access.log", str(root / "logs" / "cdss.access.log")),
    ]
    for literal, value in render:
        assert literal in text, (
            f"deploy/nginx/cdss.conf no longer has {literal!r}: update render_site"
        )
        text = text.replace(literal, value)
    return text


def main_conf(root: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives a site file, with every path in ``root``."""
    # As root, nginx runs its workers as nobody, who may not use gunicorn's socket (umask 007).
    # Production puts www-data in the cdss group; here the workers run as gunicorn's user.
    user = "user root root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {root / 'nginx' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {root / "nginx" / "nginx.pid"};
error_log {root / "logs" / "nginx-error.log"} info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {site};
}}
"""


def _self_signed(openssl: str, root: Path) -> Path:
    tls = root / "tls"
    tls.mkdir()
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
            "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return tls / "cert.pem"


def _web_build(dist: Path) -> None:
    """A stand-in for `npm run build`'s output (the real one takes a minute to collect and
    compress): an index and one content-hashed asset under assets/, as Vite writes them."""
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>CDSS</title>\n")
    (dist / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (dist / "assets" / "index-Bx7Qa2Lk.js").write_text("export const cdss = 'probe';\n" * 200)


def _manage(*commands: list[str], env: dict[str, str], log: Path) -> None:
    """Runs the ``manage.py`` commands side by side (they touch different things)."""
    with log.open("ab") as out:
        running = [
            (args, subprocess.Popen([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                                    stdout=out, stderr=out))
            for args in commands
        ]  # fmt: skip
        failed = [args for args, process in running if process.wait() != 0]
    assert not failed, f"manage.py {failed} failed:\n{tail(log)}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nginx = require_tool("/usr/sbin/nginx", "nginx-light")
    openssl = require_tool("/usr/bin/openssl", "openssl")
    root = tmp_path_factory.mktemp("deploy")
    for folder in ("logs", "nginx", "static", "media", "dist", "prometheus"):
        (root / folder).mkdir()
    logs, static, media = root / "logs", root / "static", root / "media"
    sock = root / "web.sock"
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    processes: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        # First, as it takes longest to load its model.
        processes["inference"] = (
            start(
                [*INFERENCE, "--host", "127.0.0.1", "--port", str(INFERENCE_PORT)],
                log=logs / "inference.log",
                env={
                    **base_env,
                    "HOME": str(root),
                    "CDSS_INFERENCE_ENGINES": "sequence",
                    "CDSS_RUNTIME_MODELS_DIR": str(root / "models"),
                    "CDSS_TRAINING_DATA_ROOTS": "",
                },
            ),
            logs / "inference.log",
        )
        cert = _self_signed(openssl, root)
        _web_build(root / "dist")
        password = secrets.token_urlsafe(16)
        env = {
            **base_env,
            "HOME": str(root),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "DATABASE_URL": f"sqlite:///{root / 'cdss.sqlite3'}",
            "CACHE_URL": "locmemcache://cdss",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "CDSS_JOBS_BROKER_FILE": str(root / "broker.sqlite3"),
            "CDSS_INFERENCE_URL": f"http://127.0.0.1:{INFERENCE_PORT}",
            "CDSS_MEDIA_ROOT": str(media),
            "DJANGO_STATIC_ROOT": str(static),
            "CDSS_WEB_DIST": str(root / "dist"),
            "CDSS_MEDIA_ACCEL_REDIRECT": "/protected-media/",
            "CDSS_TRUSTED_PROXIES": "unix",
            "PROMETHEUS_MULTIPROC_DIR": str(root / "prometheus"),
            "CDSS_WEB_BIND": f"unix:{sock}",
            "CDSS_WEB_WORKERS": "1",
            "CDSS_TEST_PASSWORD": password,
        }
        manage_log = logs / "manage.log"
        _manage(
            [
                "shell",
                "-c",
                "import os; from django.core.management import call_command; "
                "from cdss.accounts.models import Role; "
                "from cdss.accounts.services import user_create; "
                "call_command('migrate', interactive=False, verbosity=0); "
                "user_create(username='deploy-test', password=os.environ['CDSS_TEST_PASSWORD'], "
                "role=Role.CLINICIAN, validate=False)",
            ],
            ["collectstatic", "--noinput", "-v0", *(f"--ignore={app}" for app in NOT_COLLECTED)],
            env=env,
            log=manage_log,
        )
        site = root / "nginx" / "cdss.conf"
        site.write_text(
            render_site(CONF.read_text(), root=root, sock=sock, static=static, media=media)
        )
        main = root / "nginx" / "nginx.conf"
        main.write_text(main_conf(root, site))
        checked = subprocess.run(
            [nginx, "-t", "-p", str(root / "nginx"), "-c", str(main)],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, f"nginx -t:\n{checked.stderr}"
        processes["nginx"] = (
            start(
                [nginx, "-p", str(root / "nginx"), "-c", str(main), "-g", "daemon off;"],
                log=logs / "nginx.log",
                env=base_env,
            ),
            logs / "nginx.log",
        )
        context = ssl.create_default_context(cafile=str(cert))
        context.set_alpn_protocols(["http/1.1"])
        built = Stack(
            root=root,
            media=media,
            static=static,
            access_log=logs / "cdss.access.log",
            context=context,
            username="deploy-test",
            password=password,
        )
        # Before gunicorn is up, nginx answers every proxied request itself: 502.
        replies: list[Reply] = []

        def nginx_answers() -> bool:
            replies.append(built.request("GET", "/api/v1/auth/me/"))  # OSError until it listens
            return True

        wait_for("HTTPS answer from nginx", nginx_answers, timeout=30, processes=processes)
        built.without_web = replies[-1]
        processes["gunicorn"] = (
            start(
                [*GUNICORN, "config.asgi:application"],
                log=logs / "gunicorn.log",
                env=env,
            ),
            logs / "gunicorn.log",
        )
        wait_for(
            "HTTPS answer from Django",
            lambda: built.request("GET", "/healthz").status == 200,
            timeout=60,
            processes=processes,
        )
        wait_for(
            "inference server",
            lambda: built.request("GET", "/health", port=INFERENCE_PORT).status == 200,
            timeout=60,
            processes=processes,
        )
        yield built
    finally:
        for process, _ in reversed(processes.values()):
            stop(process)


# --- nginx's own errors ---------------------------------------------------------------------------


def test_nginx_own_5xx_is_the_json_error_shape(stack: Stack) -> None:
    reply = stack.without_web
    assert reply is not None and reply.status == 502
    assert reply.headers.get_content_type() == "application/json"
    body = reply.json()
    assert isinstance(body, dict) and set(body) == {"error", "detail", "request_id"}
    assert body["error"] == "The web server is not answering."
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    assert body["request_id"] in stack.access_log.read_text()


# --- HTTPS, the redirect, HSTS ------------------------------------------------------------------


def test_https_answers_with_hsts_and_http2(stack: Stack) -> None:
    reply = stack.request("GET", "/healthz")
    assert reply.status == 200 and reply.json() == {"ok": True, "status": "alive"}
    # Django sends it only for a request it believes was HTTPS: nginx's X-Forwarded-Proto, trusted.
    assert reply.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    h2 = ssl.create_default_context(cafile=str(stack.root / "tls" / "cert.pem"))
    h2.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=10) as raw,
        h2.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}


def test_an_api_call_with_a_jwt(stack: Stack) -> None:
    token = stack.token()
    reply = stack.request("GET", "/api/v1/auth/me/", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200, reply.body
    assert reply.json()["username"] == stack.username  # type: ignore[index]
    assert "Strict-Transport-Security" in reply.headers
    assert stack.request("GET", "/api/v1/auth/me/").status == 401


def test_django_believes_nginx_request_id(stack: Stack) -> None:
    """CDSS_TRUSTED_PROXIES=unix: the id nginx logs is the one Django answers with (and audits)."""
    reply = stack.request("GET", "/healthz", headers={"X-Request-ID": "client-made-up"})
    request_id = reply.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert request_id in stack.access_log.read_text()


def test_http_redirects_to_https_and_keeps_queries_out_of_the_log(stack: Stack) -> None:
    path = f"/api/v1/patients/?search={SEARCH_NAME}"
    reply = stack.request("GET", path, tls=False)
    assert reply.status == 301
    assert reply.headers["Location"] == f"https://{HOST}{path}"
    # The load balancer's probe stays on HTTP.
    assert stack.request("GET", "/healthz", tls=False).status == 200
    stack.request("GET", path, headers={"Authorization": "Bearer not-a-token"})
    log = stack.access_log.read_text()
    assert '"GET /api/v1/patients/"' in log
    assert SEARCH_NAME not in log


# --- the body cap ---------------------------------------------------------------------------------


def _claim_length(stack: Stack, path: str, length: int) -> Reply:
    """Headers only, claiming a body of ``length``: nginx refuses on Content-Length alone."""
    conn = _TlsConnection(HOST, HTTPS_PORT, context=stack.context, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def test_a_body_over_the_cap_is_a_json_413_from_nginx(stack: Stack) -> None:
    reply = _claim_length(stack, "/ml/v1/predict/", 20 * 1024 * 1024 + 1)
    assert reply.status == 413
    assert reply.headers.get_content_type() == "application/json"
    assert reply.json() == {
        "error": "Request body is over the limit for this route.",
        "detail": {},
    }
    # Under nginx's cap but over the route's own: Django's 413, which names the limit.
    reply = stack.request(
        "POST",
        "/api/v1/patients/",
        body=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 413
    assert reply.json()["detail"] == {"limit_bytes": 2 * 1024 * 1024}  # type: ignore[index]


def test_the_upload_routes_take_bodies_over_the_default_cap(stack: Stack) -> None:
    """21 MiB passes nginx on the patient-file route (a CT volume may be 1 GiB): Django answers."""
    reply = stack.request(
        "POST",
        "/api/v1/patients/1/files/",
        body=b"x" * (21 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.status == 401, reply.body
    assert "X-Request-ID" in reply.headers  # Django's answer, not nginx's


def test_nginx_caps_admit_each_upload_route_limit() -> None:
    """The caps in cdss.conf equal Django's CDSS_UPLOAD_LIMITS (rounded up to a MiB)."""
    from django.conf import settings

    text = CONF.read_text()
    default = re.search(r"^    client_max_body_size (\d+)m;", text, re.M)
    assert default is not None
    caps = {
        match["route"]: int(match["mib"])
        for match in re.finditer(
            r"location (?:~|=) (?P<route>\S+) \{\s*client_max_body_size (?P<mib>\d+)m;", text
        )
    }
    mib = 1024 * 1024
    for key, limit in settings.CDSS_UPLOAD_LIMITS.items():
        if key.startswith("^"):
            route = key if key in caps else key.removeprefix("^").removesuffix("$")
            assert route in caps, f"cdss.conf has no location for the upload route {key}"
            assert caps[route] == -(-limit // mib), key
        else:
            assert int(default[1]) * mib >= limit, key


# --- WebSockets -----------------------------------------------------------------------------------


def _websocket(stack: Stack, subprotocols: list[str]) -> ClientConnection:
    return connect(
        f"wss://{HOST}:{HTTPS_PORT}/ws/analyses/",
        sock=socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=10),
        ssl=stack.context,
        server_hostname=HOST,
        origin=Origin(f"https://{HOST}"),
        subprotocols=[Subprotocol(p) for p in subprotocols],
        proxy=None,
        open_timeout=10,
    )


def test_websocket_upgrade_with_a_token(stack: Stack) -> None:
    with _websocket(stack, ["cdss.bearer", stack.token()]) as ws:
        assert ws.response is not None and ws.response.status_code == 101
        assert ws.subprotocol == "cdss.bearer"
        ws.ping().wait(10)
    with pytest.raises(InvalidStatus) as refused:
        _websocket(stack, ["cdss.bearer", "not-a-token"])
    assert refused.value.response.status_code == 403


# --- static files ---------------------------------------------------------------------------------


def test_hashed_assets_are_served_by_nginx_cached_for_good(stack: Stack) -> None:
    path = "/static/web/assets/index-Bx7Qa2Lk.js"
    reply = stack.request("GET", path)
    assert reply.status == 200
    assert reply.body == (stack.static / "web" / "assets" / "index-Bx7Qa2Lk.js").read_bytes()
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers.get_content_type() in {"application/javascript", "text/javascript"}
    assert "X-Request-ID" not in reply.headers  # nginx's own answer: Django never saw it
    # WhiteNoise's compressed copy, sent as is.
    gz = stack.request("GET", path, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gz.headers["Vary"] == "Accept-Encoding"
    assert gz.body == (stack.static / "web" / "assets" / "index-Bx7Qa2Lk.js.gz").read_bytes()


def test_other_static_files_are_served_by_nginx_cached_for_an_hour(stack: Stack) -> None:
    # Written after gunicorn started: WhiteNoise (production) only knows the files it found then.
    (stack.static / "late.txt").write_text("written after start\n")
    reply = stack.request("GET", "/static/late.txt")
    assert (reply.status, reply.body) == (200, b"written after start\n")
    assert reply.headers["Cache-Control"] == "public, max-age=3600"
    icon = stack.request("GET", "/static/web/favicon.svg")
    assert (icon.status, icon.headers.get_content_type()) == (200, "image/svg+xml")
    assert icon.headers["Cache-Control"] == "public, max-age=3600"
    missing = stack.request("GET", "/static/web/assets/missing-00000000.js")
    assert (missing.status, missing.json()) == (404, NOT_FOUND)


# --- protected media ------------------------------------------------------------------------------


def _multipart(fields: dict[str, str], name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def uploaded(stack: Stack) -> dict[str, object]:
    """A patient and a document uploaded through nginx, as a clinician."""
    auth = {"Authorization": f"Bearer {stack.token()}"}
    patient = stack.request(
        "POST",
        "/api/v1/patients/",
        body=json.dumps({"mrn": "DEPLOY-1", "name": "Deploy Test"}).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert patient.status == 201, patient.body
    content = b"# Discharge note\n\nNothing to report; written by the deployment test.\n"
    body, content_type = _multipart({"role": "document"}, "note.md", content)
    reply = stack.request(
        "POST",
        f"/api/v1/patients/{patient.json()['id']}/files/",  # type: ignore[index]
        body=body,
        headers={**auth, "Content-Type": content_type},
    )
    assert reply.status == 201, reply.body
    return {"file": reply.json(), "content": content, "auth": auth}


def test_protected_media_is_sent_by_nginx_after_django_checks(
    stack: Stack, uploaded: dict[str, object]
) -> None:
    file = uploaded["file"]
    content = uploaded["content"]
    assert isinstance(file, dict) and isinstance(content, bytes)
    reply = stack.request(
        "GET",
        f"/api/v1/files/{file['id']}/content",
        headers=uploaded["auth"],  # type: ignore[arg-type]
    )
    # Django answers with an empty body and X-Accel-Redirect: the bytes come from nginx.
    assert reply.status == 200
    assert reply.body == content
    assert "X-Accel-Redirect" not in reply.headers
    assert reply.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="note.md"'
    assert reply.headers["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers.get_all("Content-Security-Policy") == ["default-src 'none'; sandbox"]
    assert reply.headers["Cache-Control"] == "private, no-store"
    # Someone without access gets the API's 404, and nginx sends nothing.
    other = stack.request("GET", f"/api/v1/files/{file['id']}/content")
    assert other.status == 401 and content not in other.body


def test_protected_media_cannot_be_fetched_directly(
    stack: Stack, uploaded: dict[str, object]
) -> None:
    file = uploaded["file"]
    assert isinstance(file, dict)
    stored = f"/protected-media/files/{file['sha256'][:2]}/{file['sha256']}"
    assert (stack.media / stored.removeprefix("/protected-media/")).is_file()
    for path in (stored, "/protected-media/", stored.replace("/files/", "/files/../files/")):
        reply = stack.request("GET", path, headers=uploaded["auth"])  # type: ignore[arg-type]
        assert (reply.status, reply.json()) == (404, NOT_FOUND), path
        assert "X-Request-ID" not in reply.headers, path


def test_stored_patient_files_are_readable_by_nginx(
    stack: Stack, uploaded: dict[str, object]
) -> None:
    file = uploaded["file"]
    assert isinstance(file, dict)
    stored = stack.media / "files" / file["sha256"][:2] / file["sha256"]
    for path in (stored.parent.parent, stored.parent):
        assert path.stat().st_mode & 0o050 == 0o050, path  # the group may list and enter
    assert stored.stat().st_mode & 0o040, oct(stored.stat().st_mode)


# --- what nginx must not reach --------------------------------------------------------------------

INFERENCE_PATHS = [
    "/health",
    "/ready",
    "/api/v1/model-info",
    "/api/v1/predict",
    "/api/v1/omics/predict",
    "/api/v1/imaging/analyze",
    "/api/v1/retrain",
]


def test_the_inference_server_is_unreachable_through_nginx(stack: Stack) -> None:
    text = CONF.read_text()
    # The only upstream is the web socket, and every proxy_pass goes there.
    assert re.findall(r"^\s*server ([^\s{;]+)", text, re.M) == ["unix:/run/cdss/web.sock"]
    assert set(re.findall(r"proxy_pass (\S+);", text)) == {"http://cdss_web"}
    for path in INFERENCE_PATHS:
        direct = stack.request("GET", path, port=INFERENCE_PORT)
        via = stack.request("GET", path)
        assert via.body != direct.body, path
        # Django's answer (its security headers), or nginx's own 404: never Flask's.
        from_django = via.headers.get("Cross-Origin-Opener-Policy") == "same-origin"
        assert from_django or (via.status, via.json()) == (404, NOT_FOUND), path
        assert via.status != 200 or via.headers.get_content_type() == "text/html", path


def test_metrics_are_refused_from_outside(stack: Stack) -> None:
    token = stack.token()
    for path in ("/metrics", "/metrics/", "/%6Detrics", "//metrics", "/metrics?format=text"):
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            reply = stack.request("GET", path, headers=headers)
            assert (reply.status, reply.json()) == (404, NOT_FOUND), path
            # Nginx's own answer: Django (whose 404 looks the same) never saw the request.
            assert "X-Request-ID" not in reply.headers, path
