from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("alerts/", views.worklist, name="worklist"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/action/", views.alert_action, name="alert_action"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("patients/<int:patient_id>/", views.history, name="history"),
    path("patients/<int:patient_id>/schedules/", views.schedule_create, name="schedule_create"),
    path("patients/<int:patient_id>/phone/<slug:code>/", views.phone_report, name="phone_report"),
    path("patients/<int:patient_id>/reports/<int:report_id>/", views.report_saved, name="report_saved"),
    path("rules/", views.alert_rules, name="alert_rules"),
    path("instruments/", views.instruments, name="instruments"),
    path("instruments/<slug:code>/permission/", views.permission_record, name="permission_record"),
    path("instruments/permissions/<int:permission_id>/disable/", views.permission_disable,
         name="permission_disable"),
]
