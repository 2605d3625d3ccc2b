from django.urls import include, path

from oncoliaison.api import api

urlpatterns = [
    path("", include("oncoliaison.home.urls")),
    path("", include("oncoliaison.core.urls")),
    path("", include("oncoliaison.auditlog.urls")),
    path("accounts/", include("oncoliaison.accounts.urls")),
    path("organisations/", include("oncoliaison.organisations.urls")),
    path("patients/", include("oncoliaison.patients.urls")),
    path("oncology/", include("oncoliaison.oncology.urls")),
    path("assessments/", include("oncoliaison.assessments.urls")),
    path("careplans/", include("oncoliaison.careplans.urls")),
    path("referrals/", include("oncoliaison.referrals.urls")),
    path("refer/", include("oncoliaison.referrals.public_urls")),
    path("programs/", include("oncoliaison.programs.urls")),
    path("monitoring/", include("oncoliaison.monitoring.urls")),
    path("fhir", include("oncoliaison.fhir.urls")),
    path("api/", api.urls),
    path("portal/", include("oncoliaison.portal.urls")),
    path("messages/", include("oncoliaison.messaging.urls")),
    path("tumor-boards/", include("oncoliaison.tumorboards.urls")),
    path("adherence/", include("oncoliaison.adherence.urls")),
    path("worklist/", include("oncoliaison.worklists.urls")),
    path("dashboard/", include("oncoliaison.dashboard.urls")),
    path("tumor-boards/report/", include("oncoliaison.tumorboards.report_urls")),
]
