"""Every setting of CDSS, read from the environment (django-environ).

With no environment at all the system runs on SQLite under ``var/`` and needs no other server.
Each variable is documented in ``.env.example``. Other settings modules only adjust these values.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Lets generic classes such as ModelAdmin[Model] be subscripted at run time, as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No key is written in the repository: production requires DJANGO_SECRET_KEY, `make run` (local)
# generates a random one once under var/, and the test suite makes its own per run.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "cdss.common",
    "cdss.accounts",
    "cdss.audit",
    "cdss.patients",
    "cdss.files",
    "cdss.ml",
    "cdss.sequences",
    "cdss.jobs",
    "cdss.omics",
    "cdss.reports",
    "cdss.imaging",
    "cdss.diagnosis",
    "cdss.assistant",
    "cdss.interop",
    "cdss.web",
]

MIDDLEWARE = [
    # First and last: request counts and latencies by view for /metrics (cdss.common.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "cdss.common.middleware.RequestIdMiddleware",
    "cdss.common.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cdss.common.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cdss.common.middleware.RequestLogMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite under var/ by default; PostgreSQL or MySQL/MariaDB through DATABASE_URL
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cdss.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server and workers read while one of them writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
# Query counts, latencies and errors for /metrics: django-prometheus's subclasses of Django's own
# backends (same features, a counting cursor). CDSS_METRICS_DB=false keeps Django's backends.
CDSS_METRICS_DB = env.bool("CDSS_METRICS_DB", default=True)
_INSTRUMENTED_BACKENDS = {
    f"django.db.backends.{name}": f"django_prometheus.db.backends.{name}"
    for name in ("sqlite3", "postgresql", "mysql")
}
if CDSS_METRICS_DB and DATABASES["default"]["ENGINE"] in _INSTRUMENTED_BACKENDS:
    DATABASES["default"]["ENGINE"] = _INSTRUMENTED_BACKENDS[DATABASES["default"]["ENGINE"]]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://cdss")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.str("CDSS_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The React web app (web/): `make web` builds it into CDSS_WEB_DIST; cdss.web serves its
# index.html for the app's routes, and its finder hands the rest to collectstatic under
# STATIC_URL + "web/" (Vite's `base`). Vite names what it puts in assets/ by content hash, so
# WhiteNoise serves those as immutable (cached for good); the index itself is never cached.
CDSS_WEB_DIST = Path(env.str("CDSS_WEB_DIST", default=str(BASE_DIR / "web" / "dist")))
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "cdss.web.finders.WebBuildFinder",
]
WHITENOISE_IMMUTABLE_FILE_TEST = rf"^/{STATIC_URL.strip('/')}/web/assets/"

# --- Request limits -------------------------------------------------------------------------------
# Bodies over their route's limit get 413 before they are read (cdss.common.asgi under ASGI,
# cdss.common.middleware under WSGI): CDSS_MAX_REQUEST_BODY by default, and routes that take
# uploads or batches have their own, whatever the encoding (JSON, FASTA or multipart).
CDSS_MAX_REQUEST_BODY = env.int("CDSS_MAX_REQUEST_BODY", default=2 * 1024 * 1024)
CDSS_UPLOAD_LIMITS = {
    "/ml/v1/predict/": env.int("CDSS_MAX_PREDICT_BODY", default=20 * 1024 * 1024),
}
# Django's own cap must not contradict a route's limit; the route limits above are the rule.
DATA_UPLOAD_MAX_MEMORY_SIZE = max([CDSS_MAX_REQUEST_BODY, *CDSS_UPLOAD_LIMITS.values()])

# --- Patient files (cdss.files) ------------------------------------------------------------------
# Every upload is checked before it is stored. Largest file of each role, in bytes:
CDSS_FILES_MAX_BYTES = {
    "ct_volume": env.int("CDSS_FILES_MAX_CT_BYTES", default=1024 * 1024 * 1024),
    "segmentation": env.int("CDSS_FILES_MAX_SEGMENTATION_BYTES", default=512 * 1024 * 1024),
    "omics_table": env.int("CDSS_FILES_MAX_OMICS_BYTES", default=8 * 1024 * 1024),
    "document": env.int("CDSS_FILES_MAX_DOCUMENT_BYTES", default=50 * 1024 * 1024),
}
# What one volume may decode to (a NIfTI's voxels and header; everything a zip inflates to): the
# inference server's CDSS_IMAGING_MAX_DECODED_BYTES. Voxels of one volume; files in one zip and
# the size each may inflate to; an omics table's sample rows, columns and characters per cell.
# Defaults equal the inference server's own (model-info: engines.imaging.limits, omics.limits), so
# a file the analysis would refuse is refused at upload; keep them at or below the server's.
CDSS_FILES_MAX_DECODED_BYTES = env.int("CDSS_FILES_MAX_DECODED_BYTES", default=1024 * 1024 * 1024)
CDSS_FILES_MAX_VOXELS = env.int("CDSS_FILES_MAX_VOXELS", default=512 * 512 * 1200)
CDSS_FILES_MAX_ZIP_MEMBERS = env.int("CDSS_FILES_MAX_ZIP_MEMBERS", default=4000)
CDSS_FILES_MAX_ZIP_MEMBER_BYTES = env.int(
    "CDSS_FILES_MAX_ZIP_MEMBER_BYTES", default=64 * 1024 * 1024
)
CDSS_FILES_MAX_TABLE_ROWS = env.int("CDSS_FILES_MAX_TABLE_ROWS", default=256)
CDSS_FILES_MAX_TABLE_COLUMNS = env.int("CDSS_FILES_MAX_TABLE_COLUMNS", default=100_000)
CDSS_FILES_MAX_CELL_CHARS = env.int("CDSS_FILES_MAX_CELL_CHARS", default=256)
# The upload route (a pattern: /api/v1/patients/ itself keeps the default limit) admits the
# largest role's file plus its multipart envelope. Its file part streams to disk, never into
# memory, so DATA_UPLOAD_MAX_MEMORY_SIZE (what Django holds in memory) stays as it is above.
CDSS_UPLOAD_LIMITS[r"^/api/v1/patients/[0-9]+/files/$"] = (
    max(CDSS_FILES_MAX_BYTES.values()) + 1024 * 1024
)
# Seed 001's diagnosis request carries a CT and its segmentation (or an omics table) at once.
CDSS_UPLOAD_LIMITS[r"^/api/v1/diagnosis/requests/$"] = (
    CDSS_FILES_MAX_BYTES["ct_volume"] + CDSS_FILES_MAX_BYTES["segmentation"] + 1024 * 1024
)

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's check plus the user's token version: logout and password changes end tokens.
        "cdss.accounts.authentication.VersionedJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["cdss.common.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "cdss.common.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "cdss.common.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    # Set by each settings module after its SECRET_KEY (JWT_SIGNING_KEY, else SECRET_KEY).
    "SIGNING_KEY": "",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 0,
}

# Failed logins, counted per window of WINDOW seconds: past LIMIT failures for one username from
# one client address, or past LIMIT_PER_IP failures from one client address (any usernames), that
# address gets 429 until the window ends. An IPv6 client counts by its /64 network.
CDSS_LOGIN_FAILURE_LIMIT = env.int("CDSS_LOGIN_FAILURE_LIMIT", default=5)
CDSS_LOGIN_FAILURE_LIMIT_PER_IP = env.int("CDSS_LOGIN_FAILURE_LIMIT_PER_IP", default=20)
CDSS_LOGIN_FAILURE_WINDOW = env.int("CDSS_LOGIN_FAILURE_WINDOW", default=60)
# Reverse proxies whose X-Real-IP / X-Forwarded-For (the client address in audit records and the
# login throttle) and X-Request-ID are believed: IP addresses or CIDR networks, and "unix" for
# connections over a unix-domain socket (no peer address). Empty: believe no one.
CDSS_TRUSTED_PROXIES = env.list("CDSS_TRUSTED_PROXIES", default=[])

SPECTACULAR_SETTINGS = {
    "TITLE": "CDSS API",
    "DESCRIPTION": (
        "Clinical decision support: patients, analyses, AI predictions with their evidence. "
        "Not a medical device; for decision support only."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice fields whose plain names ("role", "format") other components use too.
    "ENUM_NAME_OVERRIDES": {
        "PatientFileRoleEnum": "cdss.files.models.FileRole",
        "PatientFileFormatEnum": "cdss.files.models.FileFormat",
        # cdss.assistant's status and guard_outcome choices, beside the analyses' and the
        # interpretations' (which keep their plain names).
        "StatusEnum": "cdss.jobs.models.Status",
        "GuardOutcomeEnum": "cdss.reports.models.GuardOutcome",
        "AssistantDocumentStatusEnum": "cdss.assistant.models.DocumentStatus",
        "AssistantGuardOutcomeEnum": "cdss.assistant.models.GuardOutcome",
        # Users' roles, in several components since the users API (the name the web app knew).
        "UserOutputRoleEnum": "cdss.accounts.models.Role",
    },
    "SCHEMA_PATH_PREFIX": r"/(api|ml)/v1",
    # Every operation documents its error statuses in the one error shape (cdss.common.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cdss.common.openapi.error_responses_hook",
    ],
}

# --- Inference server (the local ML process; reached only through cdss.ml.client) ----------------
CDSS_INFERENCE_URL = env.str("CDSS_INFERENCE_URL", default="http://127.0.0.1:9000")
CDSS_INFERENCE_TIMEOUT_SINGLE = env.float("CDSS_INFERENCE_TIMEOUT_SINGLE", default=30.0)
CDSS_INFERENCE_TIMEOUT_BATCH = env.float("CDSS_INFERENCE_TIMEOUT_BATCH", default=60.0)
CDSS_INFERENCE_TIMEOUT_RETRAIN = env.float("CDSS_INFERENCE_TIMEOUT_RETRAIN", default=300.0)
# One CT analysis (segmentation, figures, mesh): 4 minutes for a 512x512x300 CT on 2 cores.
CDSS_INFERENCE_TIMEOUT_IMAGING = env.float("CDSS_INFERENCE_TIMEOUT_IMAGING", default=600.0)
# Largest batch answered synchronously by /ml/v1/predict/ (bigger ones become analyses).
CDSS_SYNC_BATCH_MAX = env.int("CDSS_SYNC_BATCH_MAX", default=1000)
# A retraining analysis polls the inference server this often, and gives up after this long.
CDSS_RETRAIN_POLL_SECONDS = env.float("CDSS_RETRAIN_POLL_SECONDS", default=5.0)
CDSS_RETRAIN_MAX_SECONDS = env.float("CDSS_RETRAIN_MAX_SECONDS", default=4 * 3600)

# --- Interpretation and reports (cdss.reports; the language models through cdss.ml.llm) ----------
# template (no model: sentences rendered from the result by rules), openai (any OpenAI-compatible
# chat endpoint) or local (a GGUF file run in-process by xllamacpp, extra llm-local). Unset: openai
# when CDSS_LLM_BASE_URL is set, local when CDSS_LLM_GGUF_PATH is, else template.
CDSS_LLM_BASE_URL = env.str("CDSS_LLM_BASE_URL", default="")  # e.g. http://127.0.0.1:8080/v1
CDSS_LLM_GGUF_PATH = env.str("CDSS_LLM_GGUF_PATH", default="")
CDSS_INTERPRETATION_PROVIDER = env.str(
    "CDSS_INTERPRETATION_PROVIDER",
    default="openai" if CDSS_LLM_BASE_URL else ("local" if CDSS_LLM_GGUF_PATH else "template"),
)
CDSS_LLM_MODEL = env.str("CDSS_LLM_MODEL", default="")
CDSS_LLM_API_KEY = env.str("CDSS_LLM_API_KEY", default="")
CDSS_LLM_TIMEOUT = env.float("CDSS_LLM_TIMEOUT", default=60.0)
CDSS_LLM_MAX_TOKENS = env.int("CDSS_LLM_MAX_TOKENS", default=400)
CDSS_LLM_THREADS = env.int("CDSS_LLM_THREADS", default=2)
CDSS_LLM_CONTEXT = env.int("CDSS_LLM_CONTEXT", default=2048)
# Every completed analysis is interpreted and reported (PDF) in each of these languages, for its
# requester (the worker has no request to read a language from).
CDSS_INTERPRETATION_LANGUAGES = env.list("CDSS_INTERPRETATION_LANGUAGES", default=["ko", "en"])
# The name printed at the top of every PDF report.
CDSS_REPORT_HOSPITAL = env.str("CDSS_REPORT_HOSPITAL", default="CDSS")

# --- The assistant (cdss.assistant): chat answered from retrieved passages ----------------------
# Passages given to an answer, and the score (cosine similarity plus keyword and language bonuses,
# cdss.assistant.search) under which a passage is not relevant: with none above it the answer says
# it found nothing. The generative provider is the interpretation's (CDSS_LLM_BASE_URL switches
# both to an OpenAI-compatible server); with none, answers are extractive.
CDSS_ASSISTANT_TOP_K = env.int("CDSS_ASSISTANT_TOP_K", default=5)
CDSS_ASSISTANT_MIN_SCORE = env.float("CDSS_ASSISTANT_MIN_SCORE", default=0.86)
# Document uploads: the document role's cap plus the multipart envelope.
CDSS_UPLOAD_LIMITS[r"^/api/v1/assistant/documents/$"] = (
    CDSS_FILES_MAX_BYTES["document"] + 1024 * 1024
)

# --- FHIR R4 (cdss.interop.fhir) -----------------------------------------------------------------
# The identifier system of the MRN in Patient resources (the hospital's own URI or OID, e.g.
# urn:oid:1.2.410...); a patient search by identifier matches this system or none.
CDSS_FHIR_MRN_SYSTEM = env.str("CDSS_FHIR_MRN_SYSTEM", default="urn:cdss:mrn")

# --- CDS Hooks (cdss.interop.cds_hooks) ----------------------------------------------------------
# Where clients reach this server (https://cdss.example.org): card links, model card links and
# the JWT audience are built on it. Empty: the request's own scheme and host.
CDSS_PUBLIC_URL = env.str("CDSS_PUBLIC_URL", default="")
# The EHRs trusted to call the hooks, as JSON: [{"issuer": ..., "jwks_url" or "jwks_path": ...,
# "user_mode": "named" | "service", "service_user": <username, service mode>, "patient_id":
# "mrn" | "fhir_id", "jku_allowlist": [...], "client_id": ...}] (cdss.interop.cds_hooks.clients).
# Empty: every hook call is 401.
CDSS_CDS_HOOKS_CLIENTS = env.json("CDSS_CDS_HOOKS_CLIENTS", default=[])
# Cards per call (the newest completed analyses); seconds a fetched JWK Set is kept; timeout of a
# JWK Set fetch; clock skew allowed on exp/iat.
CDSS_CDS_HOOKS_MAX_CARDS = env.int("CDSS_CDS_HOOKS_MAX_CARDS", default=10)
CDSS_CDS_HOOKS_JWKS_TTL = env.int("CDSS_CDS_HOOKS_JWKS_TTL", default=300)
CDSS_CDS_HOOKS_JWKS_TIMEOUT = env.float("CDSS_CDS_HOOKS_JWKS_TIMEOUT", default=5.0)
CDSS_CDS_HOOKS_LEEWAY = env.int("CDSS_CDS_HOOKS_LEEWAY", default=30)

# --- Content security policy (set by cdss.common.middleware) -------------------------------------
CDSS_CSP = env.str(
    "CDSS_CSP",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
)
# Swagger UI, ReDoc and the Django admin need inline styles/scripts; they get this policy instead.
CDSS_CSP_DOCS = env.str(
    "CDSS_CSP_DOCS",
    default=(
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'"
    ),
)
CDSS_CSP_DOCS_PREFIXES = ("/api/docs/", "/api/redoc/", "/admin/")

# --- Channels -------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No read timeout: redis-py's default (5 s) equals channels_redis's blocking wait for
            # the next message, so an idle socket's wait would fail at random.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# --- Celery and analysis jobs --------------------------------------------------------------------
# Broker: Redis (or RabbitMQ) in production through CELERY_BROKER_URL. Unset, an embedded broker
# that needs no server: kombu's SQLAlchemy transport on a SQLite file, which keeps queued jobs
# across restarts (cdss.jobs.broker). Either way the database is the source of truth and the
# sweeper re-queues or fails work the broker lost (cdss.jobs.services.analysis_sweep).
CDSS_JOBS_BROKER_FILE = Path(
    env.str("CDSS_JOBS_BROKER_FILE", default=str(VAR_DIR / "celery-broker.sqlite3"))
)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or f"sqlite:///{CDSS_JOBS_BROKER_FILE}"
CELERY_BROKER_TRANSPORT = (
    None if env.str("CELERY_BROKER_URL", default="") else "cdss.jobs.broker:EmbeddedTransport"
)
# Seconds between polls of the embedded broker for new messages (Redis pushes; no polling).
CDSS_JOBS_BROKER_POLL_SECONDS = env.float("CDSS_JOBS_BROKER_POLL_SECONDS", default=0.1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis re-delivers an unacknowledged message after this many seconds: longer than any run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CDSS_JOBS_TIME_LIMIT_SECONDS", default=3600) + 600
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results live in the database (jobs.AnalysisResult)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Queue of analyses; the sweeper has a queue of its own so a backlog never delays it.
CDSS_JOBS_QUEUE = env.str("CDSS_JOBS_QUEUE", default="analyses")
CDSS_JOBS_CONTROL_QUEUE = f"{CDSS_JOBS_QUEUE}.control"
# Queues of their own that analysis kinds may name (AnalysisKind.queue), each
# "<CDSS_JOBS_QUEUE>.<name>" (analyses.imaging). A worker started without -Q consumes all of them;
# a deployment may give one its own workers (celery -A config worker -Q analyses.imaging).
CDSS_JOBS_KIND_QUEUES = env.list("CDSS_JOBS_KIND_QUEUES", default=["imaging", "omics"])
# A running analysis holds a lease renewed every third of this many seconds; a lease that runs
# out means its worker died, and the sweeper re-queues the work (or fails it past its attempts).
CDSS_JOBS_LEASE_SECONDS = env.float("CDSS_JOBS_LEASE_SECONDS", default=60.0)
# Seconds between sweeps (celery beat), and how long queued work may wait before the sweeper
# re-queues it (only while the broker queue is empty: then nothing is waiting for a worker).
CDSS_JOBS_SWEEP_SECONDS = env.float("CDSS_JOBS_SWEEP_SECONDS", default=30.0)
CDSS_JOBS_PENDING_STALE_SECONDS = env.float("CDSS_JOBS_PENDING_STALE_SECONDS", default=120.0)
# Retries of transient failures: base * 2**(attempt-1) seconds, capped, with random jitter.
CDSS_JOBS_RETRY_BASE_SECONDS = env.float("CDSS_JOBS_RETRY_BASE_SECONDS", default=5.0)
CDSS_JOBS_RETRY_MAX_SECONDS = env.float("CDSS_JOBS_RETRY_MAX_SECONDS", default=600.0)
# Time limit of one run, in seconds, for kinds that set none (AnalysisKind.time_limit): past it
# the engine fails the analysis with time_limit; a prefork worker child is killed soon after.
CELERY_TASK_TIME_LIMIT = env.int("CDSS_JOBS_TIME_LIMIT_SECONDS", default=3600)
# Extra modules that register analysis kinds when the jobs app is ready (tests, plug-ins).
CDSS_JOBS_KIND_MODULES = env.list("CDSS_JOBS_KIND_MODULES", default=[])
# Live status. With the in-memory channel layer (no REDIS_URL) a status change made in a worker
# process cannot reach the web process through the layer, so each web process relays the status
# events from the database instead, polling every CDSS_JOBS_EVENT_POLL_SECONDS.
CDSS_JOBS_EVENT_RELAY = env.bool("CDSS_JOBS_EVENT_RELAY", default=not REDIS_URL)
CDSS_JOBS_EVENT_POLL_SECONDS = env.float("CDSS_JOBS_EVENT_POLL_SECONDS", default=0.5)
# Channel-layer group of this deployment's status events (named after its queue, so two
# deployments sharing one Redis never see each other's events).
CDSS_JOBS_EVENT_GROUP = f"{CDSS_JOBS_QUEUE}.events"
# Files analyses produce (cdss.jobs AnalysisArtifact) live under MEDIA_ROOT and are never served
# as static media: each download is checked and audited by Django. With this set (nginx:
# "/protected-media/", an internal location aliasing MEDIA_ROOT, deploy/nginx/cdss.conf) Django
# answers with X-Accel-Redirect and nginx sends the file; empty, Django streams it itself.
CDSS_MEDIA_ACCEL_REDIRECT = env.str("CDSS_MEDIA_ACCEL_REDIRECT", default="")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Demo accounts created by `make run` (manage.py bootstrap_demo) -------------------------------
CDSS_DEMO_ADMIN_USERNAME = env.str("CDSS_DEMO_ADMIN_USERNAME", default="admin")
CDSS_DEMO_ADMIN_PASSWORD = env.str("CDSS_DEMO_ADMIN_PASSWORD", default="")
CDSS_DEMO_CLINICIAN_USERNAME = env.str("CDSS_DEMO_CLINICIAN_USERNAME", default="doctor")
CDSS_DEMO_CLINICIAN_PASSWORD = env.str("CDSS_DEMO_CLINICIAN_PASSWORD", default="")

# --- Metrics (cdss.common.metrics): /metrics answers loopback clients that came through no proxy,
# and requests with "Authorization: Bearer <CDSS_METRICS_TOKEN>" (32 characters or more; unset:
# loopback only). PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself) must be set for
# gunicorn's workers and Celery's to be counted together (deploy/README.md).
CDSS_METRICS_TOKEN = env.str("CDSS_METRICS_TOKEN", default="")
if CDSS_METRICS_TOKEN and len(CDSS_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("CDSS_METRICS_TOKEN must be a random value of 32 characters or more")
# prometheus_client writes to that folder from the first metric a process defines (after the
# settings load): made here, so no process (migrate included) fails on a folder not made yet.
if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    Path(env.str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

# --- Logging: structured, with the request id, never patient-identifying values -----------------
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
# json: one JSON object per line (cdss.common.logging.JsonFormatter), for a log collector; the
# default in production. text: one readable line, the default elsewhere (`make run` shows four
# processes' lines interleaved in one terminal, read by a person).
LOG_FORMATS = ("json", "text")
CDSS_LOG_FORMAT = env.str("CDSS_LOG_FORMAT", default="text")
if CDSS_LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"CDSS_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "cdss.common.logging.RequestIdFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "cdss.common.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CDSS_LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger repeats paths for every 4xx; RequestLogMiddleware covers it.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
