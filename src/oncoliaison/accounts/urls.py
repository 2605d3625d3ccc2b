from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/", views.mfa_view, name="mfa"),
    path("mfa/setup/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/disable/", views.mfa_disable_view, name="mfa_disable"),
    path("password/", views.password_change, name="password_change"),
]
