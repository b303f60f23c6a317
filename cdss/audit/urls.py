from django.urls import path

from cdss.audit import apis

urlpatterns = [
    path("events/", apis.AccessEventListApi.as_view(), name="audit-event-list"),
]
