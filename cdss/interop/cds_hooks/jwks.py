"""The public keys of CDS clients: JWK Sets read from a file or fetched over HTTP, then cached.

A fetch has a timeout and a size cap, follows no redirects, and keeps only public RSA and EC keys
(a symmetric key could be used to forge tokens with the key itself, and a set that publishes a
private key is broken). Sets are cached for ``CDSS_CDS_HOOKS_JWKS_TTL`` seconds in the Django
cache; a token naming a key id the cached set lacks triggers one early refetch per minute per set,
so a client's key rotation is picked up without letting unknown ids make us fetch on every call.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache

MAX_JWKS_BYTES = 64 * 1024
_REFRESH_EVERY_S = 60
_PUBLIC_MEMBERS = {
    "RSA": ("kty", "kid", "alg", "use", "key_ops", "n", "e"),
    "EC": ("kty", "kid", "alg", "use", "key_ops", "crv", "x", "y"),
}
# Members that only a private (or symmetric) key has.
_SECRET_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class JwksUnavailable(Exception):
    """The key set could not be read or is not a JWK Set."""


def _read(source: str, *, is_path: bool) -> bytes:
    if is_path:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_JWKS_BYTES:
                raise JwksUnavailable(f"JWK Set file is over {MAX_JWKS_BYTES} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise JwksUnavailable(f"JWK Set file unreadable: {exc.strerror}") from exc
    try:
        with (
            httpx.Client(timeout=settings.CDSS_CDS_HOOKS_JWKS_TIMEOUT) as client,
            client.stream("GET", source, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise JwksUnavailable(f"JWK Set URL answered {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksUnavailable(f"JWK Set is over {MAX_JWKS_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise JwksUnavailable(f"JWK Set URL unreachable: {type(exc).__name__}") from exc


def _public_keys(raw: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JwksUnavailable("JWK Set is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise JwksUnavailable('JWK Set has no "keys" list')
    keys: list[dict[str, Any]] = []
    for item in data["keys"]:
        if not isinstance(item, dict) or item.get("kty") not in _PUBLIC_MEMBERS:
            continue
        if any(member in item for member in _SECRET_MEMBERS):
            continue
        keys.append({k: item[k] for k in _PUBLIC_MEMBERS[item["kty"]] if k in item})
    return keys


def _cache_key(source: str) -> str:
    return "cds-hooks:jwks:" + hashlib.sha256(source.encode()).hexdigest()


def jwks_keys(*, source: str, is_path: bool, kid: str) -> list[dict[str, Any]]:
    """The public keys of the set at ``source``, refetched early (rate-limited) when none has
    ``kid``."""
    key = _cache_key(source)
    keys: list[dict[str, Any]] | None = cache.get(key)
    stale = keys is not None and not any(k.get("kid") == kid for k in keys)
    if keys is None or (stale and cache.add(key + ":refetch", 1, _REFRESH_EVERY_S)):
        keys = _public_keys(_read(source, is_path=is_path))
        cache.set(key, keys, settings.CDSS_CDS_HOOKS_JWKS_TTL)
    return keys
