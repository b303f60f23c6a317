from django.urls import path

from cdss.accounts import apis

urlpatterns = [
    path("token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("password/", apis.PasswordChangeApi.as_view(), name="auth-password"),
    path("me/", apis.MeApi.as_view(), name="auth-me"),
]
