from django.urls import path

from . import views, views_emergency

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/print/", views.patient_print, name="print"),
    path("<int:pk>/consents/new/", views.consent_add, name="consent_add"),
    path("<int:pk>/consents/<int:consent_pk>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("emergency-access/", views_emergency.emergency_access, name="emergency_access"),
    path("emergency-access/<int:pk>/end/", views_emergency.emergency_access_end, name="emergency_access_end"),
    path("emergency-access/review/", views_emergency.emergency_review, name="emergency_review"),
    path("emergency-access/<int:pk>/review/", views_emergency.emergency_review_record,
         name="emergency_review_record"),
]
