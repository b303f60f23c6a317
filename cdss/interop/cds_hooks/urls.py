"""The CDS Hooks 2.0 services under ``/cds-services/`` (discovery, ``/cds-services`` itself, is
routed in config/urls.py: the spec's URL has no trailing slash, which an include cannot give)."""

from django.urls import path

from cdss.interop.cds_hooks import apis

urlpatterns = [
    path(apis.SERVICE_ID, apis.CdsPatientViewApi.as_view(), name="cds-patient-view"),
    path(f"{apis.SERVICE_ID}/feedback", apis.CdsFeedbackApi.as_view(), name="cds-feedback"),
]
