"""URL routing: the versioned REST API, its schema and docs, health probes, the admin, and the
web app at ``/`` (last: every path no route above claims)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cdss.common import apis as common_apis
from cdss.common.metrics import metrics_view
from cdss.interop.cds_hooks import apis as cds_hooks_apis

api_v1 = [
    path("auth/", include("cdss.accounts.urls")),
    path("patients/", include("cdss.patients.urls")),
    # patients/<id>/files/ and files/<id>/...
    path("", include("cdss.files.urls")),
    path("audit/", include("cdss.audit.urls")),
    path("analyses/", include("cdss.jobs.urls")),
    path("analyses/", include("cdss.reports.urls")),
    path("omics/", include("cdss.omics.urls")),
    path("diagnosis/requests/", include("cdss.diagnosis.urls")),
    path("assistant/", include("cdss.assistant.urls")),
    path("users/", include("cdss.accounts.user_urls")),
    path("models/", include("cdss.ml.urls")),
]

urlpatterns = [
    path("healthz", common_apis.LivenessApi.as_view(), name="healthz"),
    path("readyz", common_apis.ReadinessApi.as_view(), name="readyz"),
    # Prometheus text for loopback clients or CDSS_METRICS_TOKEN; a 404 for anyone else.
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(api_v1)),
    # The seed-compatible ML API (seed 000), kept at its original paths.
    path("ml/v1/", include("cdss.sequences.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    # Interoperability (cdss/interop): read-only FHIR R4 and CDS Hooks 2.0 for EHRs.
    path("fhir/r4/", include("cdss.interop.fhir.urls")),
    # Discovery is /cds-services itself (no trailing slash, as the spec writes it); the services
    # are below it.
    path("cds-services", cds_hooks_apis.CdsDiscoveryApi.as_view(), name="cds-discovery"),
    path("cds-services/", include("cdss.interop.cds_hooks.urls")),
    # The React web app: every other path is one of its pages (cdss/web/urls.py). Keep it last.
    path("", include("cdss.web.urls")),
]

handler400 = "cdss.common.apis.bad_request"
handler403 = "cdss.common.apis.permission_denied"
handler404 = "cdss.common.apis.not_found"
handler500 = "cdss.common.apis.server_error"
