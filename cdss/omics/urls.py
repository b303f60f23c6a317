from django.urls import path

from cdss.omics import apis

urlpatterns = [
    path("templates/<str:model>.csv", apis.OmicsTemplateApi.as_view(), name="omics-template"),
]
