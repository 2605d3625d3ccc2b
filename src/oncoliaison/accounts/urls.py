from django.urls import path

from . import views, views_admin

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/", views.mfa_view, name="mfa"),
    path("mfa/setup/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/disable/", views.mfa_disable_view, name="mfa_disable"),
    path("password/", views.password_change, name="password_change"),
    path("api-clients/", views_admin.api_clients, name="api_clients"),
    path("security/", views_admin.security, name="security"),
    path("api-clients/<str:client_id>/revoke/", views_admin.api_client_revoke, name="api_client_revoke"),
]
