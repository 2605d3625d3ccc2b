from django.urls import path

from . import views

app_name = "programs"
urlpatterns = [
    path("", views.episode_list, name="list"),
    path("enroll/referral/<int:referral_pk>/", views.enroll_from_referral, name="enroll_referral"),
    path("enroll/patient/<int:patient_pk>/", views.enroll_patient, name="enroll_patient"),
    path("<int:pk>/", views.episode_detail, name="detail"),
    path("<int:pk>/status/", views.episode_status, name="status"),
]
