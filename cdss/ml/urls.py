"""Routes of /api/v1/models/: the model catalog and the model cards."""

from django.urls import path

from cdss.ml import apis

urlpatterns = [
    path("", apis.ModelCatalogApi.as_view(), name="model-list"),
    path("<str:name>/<str:version>/card/", apis.ModelCardApi.as_view(), name="model-card"),
]
