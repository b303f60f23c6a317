from django.urls import path

from cdss.jobs import apis

urlpatterns = [
    path("", apis.AnalysisListCreateApi.as_view(), name="analysis-list"),
    path("<id:analysis_id>/", apis.AnalysisDetailApi.as_view(), name="analysis-detail"),
    path("<id:analysis_id>/cancel/", apis.AnalysisCancelApi.as_view(), name="analysis-cancel"),
    path("<id:analysis_id>/retry/", apis.AnalysisRetryApi.as_view(), name="analysis-retry"),
    path("<id:analysis_id>/result/", apis.AnalysisResultApi.as_view(), name="analysis-result"),
    path(
        "<id:analysis_id>/artifacts/",
        apis.AnalysisArtifactListApi.as_view(),
        name="analysis-artifact-list",
    ),
    path(
        "<id:analysis_id>/artifacts/<str:name>",
        apis.AnalysisArtifactApi.as_view(),
        name="analysis-artifact",
    ),
]
