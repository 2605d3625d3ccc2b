"""The public self-referral page (no log-in), mounted at /refer/."""

from django.urls import path

from . import views

app_name = "refer"
urlpatterns = [
    path("", views.self_referral, name="form"),
    path("received/", views.self_referral_received, name="received"),
]
