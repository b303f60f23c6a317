from django.urls import path

from cdss.sequences import apis

urlpatterns = [
    path("status/", apis.MlStatusApi.as_view(), name="ml-status"),
    path("model-info/", apis.MlModelInfoApi.as_view(), name="ml-model-info"),
    path("predict/", apis.MlPredictApi.as_view(), name="ml-predict"),
    path("history/", apis.MlHistoryApi.as_view(), name="ml-history"),
    path("retrain/", apis.MlRetrainApi.as_view(), name="ml-retrain"),
]
