"""The CDS Hooks 2.0 routes: discovery, the ``patient-view`` service and its feedback endpoint.

Discovery is public: it lists what the service does and nothing about any patient, and an EHR's
administrators read it before their client is configured (the 2.0 spec asks for a JWT only on
calls that need authentication). The service and feedback calls need a JWT signed by a configured
client (``auth``). These routes speak the CDS Hooks protocol, not the CDSS REST API, so they are
left out of the OpenAPI schema (the web client never calls them; their tests are the contract).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.interop.cds_hooks import services
from cdss.interop.cds_hooks.auth import CdsClientAuthentication, IsCdsClient, VerifiedClient
from cdss.interop.cds_hooks.schemas import HOOK, FeedbackRequestSerializer
from cdss.interop.cds_hooks.schemas import PatientViewRequestSerializer as HookRequest
from cdss.interop.cds_hooks.services import FeedbackEntry

SERVICE_ID = "cdss-patient-view"
SERVICE: dict[str, Any] = {
    "hook": HOOK,
    "id": SERVICE_ID,
    "title": "CDSS analysis results",
    "description": (
        "One card per recent completed CDSS analysis of the patient (pathogen sequences, omics, "
        "CT), from stored results; each names its model and version and links to the result "
        "page. Not a medical device; for decision support only."
    ),
    "prefetch": {"patient": "Patient/{{context.patientId}}"},
    "usageRequirements": (
        "Calls carry a JWT signed by a client configured in CDSS (CDSS_CDS_HOOKS_CLIENTS); "
        "context.userId is Practitioner/<CDSS username> for clients in named-user mode."
    ),
}


def public_base_url(request: Request) -> str:
    """Where clients reach this server: CDSS_PUBLIC_URL, else the request's own scheme and host."""
    configured: str = settings.CDSS_PUBLIC_URL
    return (configured or request.build_absolute_uri("/")).rstrip("/")


def service_url(request: Request) -> str:
    return f"{public_base_url(request)}/cds-services/{SERVICE_ID}"


@extend_schema(exclude=True)
class CdsDiscoveryApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"services": [SERVICE]})


class _CdsClientApi(APIView):
    authentication_classes = [CdsClientAuthentication]
    permission_classes = [IsCdsClient]

    def cds_audiences(self, request: Request) -> list[str]:
        """The ``aud`` values a token for this route may carry."""
        return [service_url(request)]


@extend_schema(exclude=True)
class CdsPatientViewApi(_CdsClientApi):
    def post(self, request: Request) -> Response:
        data = HookRequest(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        assert isinstance(request.auth, VerifiedClient)
        cards = services.cds_patient_view(
            verified=request.auth,
            hook_instance=body["hookInstance"],
            patient_ref=body["context"]["patientId"],
            user_ref=body["context"]["userId"],
            base_url=public_base_url(request),
            max_cards=settings.CDSS_CDS_HOOKS_MAX_CARDS,
        )
        return Response({"cards": cards})


@extend_schema(exclude=True)
class CdsFeedbackApi(_CdsClientApi):
    def cds_audiences(self, request: Request) -> list[str]:
        # The spec names the service endpoint as aud; some clients send the URL they call.
        return [service_url(request), f"{service_url(request)}/feedback"]

    def post(self, request: Request) -> Response:
        data = FeedbackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.auth, VerifiedClient)
        stored = services.cds_feedback_record(
            verified=request.auth,
            entries=[
                FeedbackEntry(
                    card=item["card"],
                    outcome=item["outcome"],
                    outcome_timestamp=item["outcomeTimestamp"],
                    override_reason=item.get("overrideReason", {}),
                    accepted_suggestions=item.get("acceptedSuggestions", []),
                )
                for item in data.validated_data["feedback"]
            ],
        )
        return Response({"stored": stored})
