"""Routes of /api/v1/users/: the users administrators manage and the clinician directory."""

from django.urls import path

from cdss.accounts import apis

urlpatterns = [
    path("", apis.UserListCreateApi.as_view(), name="user-list"),
    path("directory/", apis.ClinicianDirectoryApi.as_view(), name="user-directory"),
    path("<id:user_id>/", apis.UserDetailApi.as_view(), name="user-detail"),
]
