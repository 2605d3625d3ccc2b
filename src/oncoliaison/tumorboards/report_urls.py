from django.urls import path

from . import report_views

app_name = "tumorboards_report"
urlpatterns = [
    path("", report_views.conference_report, name="report"),
    path("print/", report_views.conference_report_print, name="print"),
    path("export.csv", report_views.conference_report_csv, name="export"),
]
