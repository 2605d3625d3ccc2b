from django.urls import include, path
from django.views.i18n import set_language

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("for/<int:patient_id>/", views.for_patient, name="for_patient"),
    path("report/", views.report, name="report"),
    path("for/<int:patient_id>/report/", views.report, name="report_for"),
    path("report/sent/<int:report_id>/", views.report_sent, name="report_sent"),
    path("for/<int:patient_id>/report/sent/<int:report_id>/", views.report_sent, name="report_sent_for"),
    path("support/", views.support, name="support"),
    path("support/<int:consent_id>/revoke/", views.support_revoke, name="support_revoke"),
    path("support/<int:consent_id>/resend/", views.support_resend, name="support_resend"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    path("welcome/", views.welcome, name="welcome"),
    path("staff/patients/<int:patient_id>/invite/", views.staff_invite, name="staff_invite"),
    path("language/", set_language, name="set_language"),
    path("", include("oncoliaison.portal.assessments_urls")),
]
