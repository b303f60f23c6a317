from django.urls import path

from cdss.diagnosis import apis

urlpatterns = [
    path("", apis.DiagnosisRequestCreateApi.as_view(), name="diagnosis-request-list"),
    path(
        "<id:request_id>/",
        apis.DiagnosisRequestDetailApi.as_view(),
        name="diagnosis-request-detail",
    ),
]
