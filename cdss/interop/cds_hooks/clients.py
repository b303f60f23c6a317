"""The CDS clients (EHRs) this service trusts, read from ``CDSS_CDS_HOOKS_CLIENTS``.

Each entry names an issuer (the ``iss`` of its JWTs), where its public keys are (``jwks_url``,
fetched over HTTPS, or ``jwks_path``, a file for hospitals without outbound access), which ``jku``
URLs it may point to instead, how its ``context.patientId`` names a patient (``patient_id``:
``mrn`` or ``fhir_id``) and whose access rule applies to its calls (``user_mode``): ``named``, the
CDSS user that ``context.userId`` names (``Practitioner/<username>``), or ``service``, one
configured CDSS account (``service_user``) whose calls get cards without their detail. An empty
list (the default) trusts no one: every hook call is 401.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

UserMode = Literal["named", "service"]
PatientIdKind = Literal["mrn", "fhir_id"]

_KNOWN_KEYS = {
    "issuer",
    "jwks_url",
    "jwks_path",
    "jku_allowlist",
    "user_mode",
    "service_user",
    "patient_id",
    "client_id",
}


@dataclass(frozen=True)
class CdsClient:
    issuer: str
    user_mode: UserMode
    patient_id: PatientIdKind
    jwks_url: str = ""
    jwks_path: str = ""
    jku_allowlist: tuple[str, ...] = ()
    service_user: str = ""
    # When set, the JWT's ``sub`` must equal it (the spec's client id); else any ``sub``.
    client_id: str = ""


def _bad(index: int, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"CDSS_CDS_HOOKS_CLIENTS[{index}]: {message}")


def _https_or_loopback(url: str) -> bool:
    # Keys fetched over plain HTTP could be swapped on the way; loopback is for local relays.
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _parse_one(index: int, raw: Any) -> CdsClient:
    if not isinstance(raw, dict):
        raise _bad(index, "each client is a JSON object")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise _bad(index, f"unknown keys {unknown}")
    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise _bad(index, "issuer is required")
    jwks_url = raw.get("jwks_url") or ""
    jwks_path = raw.get("jwks_path") or ""
    if bool(jwks_url) == bool(jwks_path):
        raise _bad(index, "exactly one of jwks_url and jwks_path is required")
    if jwks_url and not _https_or_loopback(str(jwks_url)):
        raise _bad(index, "jwks_url must be https (or http on loopback)")
    jku = raw.get("jku_allowlist") or []
    if not isinstance(jku, list) or not all(isinstance(u, str) and u for u in jku):
        raise _bad(index, "jku_allowlist is a list of URLs")
    if any(not _https_or_loopback(u) for u in jku):
        raise _bad(index, "jku_allowlist URLs must be https (or http on loopback)")
    mode = raw.get("user_mode", "named")
    if mode not in ("named", "service"):
        raise _bad(index, 'user_mode is "named" or "service"')
    service_user = raw.get("service_user") or ""
    if mode == "service" and not service_user:
        raise _bad(index, 'user_mode "service" needs service_user (a CDSS username)')
    if mode == "named" and service_user:
        raise _bad(index, 'service_user is only for user_mode "service"')
    patient_id = raw.get("patient_id", "mrn")
    if patient_id not in ("mrn", "fhir_id"):
        raise _bad(index, 'patient_id is "mrn" or "fhir_id"')
    return CdsClient(
        issuer=issuer,
        user_mode=mode,
        patient_id=patient_id,
        jwks_url=str(jwks_url),
        jwks_path=str(jwks_path),
        jku_allowlist=tuple(jku),
        service_user=str(service_user),
        client_id=str(raw.get("client_id") or ""),
    )


# (the setting's value, its parse): holding the value keeps its identity from being reused.
_parsed: tuple[Any, dict[str, CdsClient]] | None = None


def _parse(raw: Any) -> dict[str, CdsClient]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"CDSS_CDS_HOOKS_CLIENTS is not JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ImproperlyConfigured("CDSS_CDS_HOOKS_CLIENTS is a JSON list of clients")
    clients: dict[str, CdsClient] = {}
    for index, item in enumerate(raw):
        client = _parse_one(index, item)
        if client.issuer in clients:
            raise _bad(index, f"issuer {client.issuer!r} is listed twice")
        clients[client.issuer] = client
    return clients


def cds_clients() -> dict[str, CdsClient]:
    """The trusted clients by issuer; re-parsed when the setting changes (tests override it)."""
    global _parsed
    raw = settings.CDSS_CDS_HOOKS_CLIENTS
    if _parsed is None or _parsed[0] is not raw:
        _parsed = (raw, _parse(raw))
    return _parsed[1]


def cds_client_for(issuer: str) -> CdsClient | None:
    return cds_clients().get(issuer)
