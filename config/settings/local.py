"""Single-machine settings used by `make run`: the base defaults, with a secret key generated once.

DEBUG stays off unless DJANGO_DEBUG is set (`make dev` sets it): `make run` never serves
Django's technical error pages.
"""

import os
import secrets
from pathlib import Path

from .base import *  # noqa: F403
from .base import SECRET_KEY, SIMPLE_JWT, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def persistent_secret(path: Path) -> str:
    """The random key stored at ``path``, made (readable by its owner only) on first use.

    The key is written to a temporary file and hard-linked into place, so processes that start
    together (web server, worker, beat) all end up with the one key that won.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(64))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


SECRET_KEY = SECRET_KEY or persistent_secret(
    Path(env.str("CDSS_SECRET_KEY_FILE", default=str(VAR_DIR / "secret-key")))
)
SIMPLE_JWT["SIGNING_KEY"] = env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY
