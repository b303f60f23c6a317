from django.urls import path

from cdss.reports import apis

# Under /api/v1/analyses/, beside cdss.jobs.urls.
urlpatterns = [
    path(
        "<id:analysis_id>/interpretation/",
        apis.AnalysisInterpretationApi.as_view(),
        name="analysis-interpretation",
    ),
    path("<id:analysis_id>/report/", apis.AnalysisReportApi.as_view(), name="analysis-report"),
]
