from django.urls import path

from . import views

app_name = "auditlog"
urlpatterns = [
    path("audit/", views.audit_report, name="audit"),
]
