"""Settings for the test suite: fast password hashing, in-memory cache, no real secrets."""

import secrets

from .base import *  # noqa: F403
from .base import BASE_DIR, SECRET_KEY, SIMPLE_JWT, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# A key of the run's own, never one written in the repository.
SECRET_KEY = SECRET_KEY or secrets.token_urlsafe(64)
SIMPLE_JWT["SIGNING_KEY"] = env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY
