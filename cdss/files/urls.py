"""Routes of the files API, relative to /api/v1/ (config/urls.py includes them there)."""

from django.urls import path

from cdss.files import apis

urlpatterns = [
    path(
        "patients/<id:patient_id>/files/",
        apis.PatientFileListCreateApi.as_view(),
        name="patient-file-list",
    ),
    path("files/<id:file_id>/", apis.PatientFileDetailApi.as_view(), name="patient-file-detail"),
    path(
        "files/<id:file_id>/content",
        apis.PatientFileContentApi.as_view(),
        name="patient-file-content",
    ),
]
