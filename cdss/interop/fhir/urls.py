"""FHIR R4 routes under ``/fhir/r4/`` (config/urls.py includes them there). The resource types
and interactions are those of ``capability.SUPPORTED``; any other path is a 404 OperationOutcome.
"""

from django.urls import path

from cdss.interop.fhir import apis

urlpatterns = [
    path("metadata", apis.MetadataApi.as_view(), name="fhir-metadata"),
    path("Patient", apis.PatientSearchApi.as_view(), name="fhir-patient-search"),
    path("Patient/<str:resource_id>", apis.PatientReadApi.as_view(), name="fhir-patient"),
    path(
        "Patient/<str:resource_id>/$everything",
        apis.PatientEverythingApi.as_view(),
        name="fhir-patient-everything",
    ),
    path(
        "DiagnosticReport",
        apis.DiagnosticReportSearchApi.as_view(),
        name="fhir-diagnosticreport-search",
    ),
    path(
        "DiagnosticReport/<str:resource_id>",
        apis.DiagnosticReportReadApi.as_view(),
        name="fhir-diagnosticreport",
    ),
    path("Observation", apis.ObservationSearchApi.as_view(), name="fhir-observation-search"),
    path(
        "Observation/<str:resource_id>",
        apis.ObservationReadApi.as_view(),
        name="fhir-observation",
    ),
    path(
        "RiskAssessment",
        apis.RiskAssessmentSearchApi.as_view(),
        name="fhir-riskassessment-search",
    ),
    path(
        "RiskAssessment/<str:resource_id>",
        apis.RiskAssessmentReadApi.as_view(),
        name="fhir-riskassessment",
    ),
    path(
        "DocumentReference",
        apis.DocumentReferenceSearchApi.as_view(),
        name="fhir-documentreference-search",
    ),
    path(
        "DocumentReference/<str:resource_id>",
        apis.DocumentReferenceReadApi.as_view(),
        name="fhir-documentreference",
    ),
    path("Device/<str:resource_id>", apis.DeviceReadApi.as_view(), name="fhir-device"),
    path("AuditEvent", apis.AuditEventSearchApi.as_view(), name="fhir-auditevent-search"),
    path(
        "AuditEvent/<str:resource_id>",
        apis.AuditEventReadApi.as_view(),
        name="fhir-auditevent",
    ),
    # The base itself (a whole-system search, not supported) and anything else: 404s here, never
    # the web app's pages below.
    path("", apis.UnknownApi.as_view(), {"resource_type": ""}, name="fhir-base"),
    path("<str:resource_type>", apis.UnknownApi.as_view(), name="fhir-unknown"),
    path("<str:resource_type>/<path:rest>", apis.UnknownApi.as_view(), name="fhir-unknown-path"),
]
