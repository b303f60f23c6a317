"""An EHR for the CDS Hooks tests: its own key pairs, its JWK Set in a file, tokens it signs, and
stored analyses with realistic results (``cdss/reports/tests/results.py``)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cdss.jobs.models import Analysis, AnalysisResult, Status
from cdss.jobs.tests.factories import AnalysisFactory

ISSUER = "https://ehr.example.org"
PUBLIC_URL = "https://cdss.example.org"
SERVICE_URL = f"{PUBLIC_URL}/cds-services/cdss-patient-view"
DISCOVERY_PATH = "/cds-services"
SERVICE_PATH = "/cds-services/cdss-patient-view"
FEEDBACK_PATH = "/cds-services/cdss-patient-view/feedback"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


@dataclass
class Ehr:
    """A CDS client: signs tokens with ``key`` (published as ``kid`` in ``jwks_path``)."""

    key: Any
    kid: str
    jwks_path: Path
    issuer: str = ISSUER
    alg: str = "RS384"
    extra_keys: list[tuple[Any, str]] = field(default_factory=list)

    def publish(self) -> None:
        keys = [public_jwk(self.key, self.kid)] + [public_jwk(k, kid) for k, kid in self.extra_keys]
        self.jwks_path.write_text(json.dumps({"keys": keys}))

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_path": str(self.jwks_path),
            "user_mode": "named",
            **overrides,
        }

    def token(
        self,
        *,
        aud: str | list[str] = SERVICE_URL,
        lifetime: int = 120,
        key: Any = None,
        alg: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": "ehr-client-1",
            "aud": aud,
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload,
            key if key is not None else self.key,
            algorithm=alg or self.alg,
            headers={"kid": self.kid, "typ": "JWT", **(headers or {})},
        )

    def auth(self, **kwargs: Any) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token(**kwargs)}"}


def hook_request(patient_id: str, user_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"patientId": patient_id, "userId": user_id},
        "prefetch": {"patient": {"resourceType": "Patient", "id": patient_id}},
        **extra,
    }


def completed(patient: Any, owner: Any, *, kind: str, result: dict[str, Any]) -> Analysis:
    """A completed analysis of ``patient`` with its stored result (as the engine leaves it)."""
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=owner,
        kind=kind,
        status=Status.COMPLETED,
        inputs={},
        model_name=str(result.get("model_name", "")),
        model_version=str(result.get("model_version", "")),
    )
    AnalysisResult.objects.create(analysis_id=analysis.pk, data=result)
    assert isinstance(analysis, Analysis)
    return analysis


_KEYS: dict[str, Any] = {}


def cached_key(name: str, make: Any = rsa_key) -> Any:
    """Key generation takes tens of milliseconds: one key per name per test run."""
    if name not in _KEYS:
        _KEYS[name] = make()
    return _KEYS[name]


def configure_ehr(settings: Any, tmp_path: Path, **client_overrides: Any) -> Ehr:
    """An EHR whose JWK Set is a file, trusted by this CDSS as the only client."""
    ehr = Ehr(key=cached_key("ehr"), kid="ehr-key-1", jwks_path=tmp_path / "ehr-jwks.json")
    ehr.publish()
    settings.CDSS_PUBLIC_URL = PUBLIC_URL
    settings.CDSS_CDS_HOOKS_CLIENTS = [ehr.client_config(**client_overrides)]
    return ehr
