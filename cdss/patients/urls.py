from django.urls import path

from cdss.patients import apis

urlpatterns = [
    path("", apis.PatientListCreateApi.as_view(), name="patient-list"),
    path("<id:patient_id>/", apis.PatientDetailApi.as_view(), name="patient-detail"),
]
