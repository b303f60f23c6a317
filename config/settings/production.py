"""Production settings: refuse to start without secrets; HTTPS, HSTS, secure cookies.

Required: DJANGO_SECRET_KEY (50+ characters), DJANGO_ALLOWED_HOSTS. Recommended: DATABASE_URL
(PostgreSQL or MySQL/MariaDB), REDIS_URL, CACHE_URL, CELERY_BROKER_URL.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOG_FORMATS, LOGGING, env

DEBUG = False


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random value of 50 characters or more")
ALLOWED_HOSTS = [h for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
SIMPLE_JWT["SIGNING_KEY"] = env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# /metrics too: Prometheus on this machine may scrape over plain HTTP (loopback or its token).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# One JSON object per log line, for the hospital's log collector (CDSS_LOG_FORMAT=text to read
# lines by eye).
CDSS_LOG_FORMAT = env.str("CDSS_LOG_FORMAT", default="json")
if CDSS_LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"CDSS_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
LOGGING["handlers"]["console"]["formatter"] = CDSS_LOG_FORMAT
