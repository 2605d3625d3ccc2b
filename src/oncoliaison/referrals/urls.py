from django.urls import path

from . import views

app_name = "referrals"
urlpatterns = [
    path("", views.triage_queue, name="queue"),
    path("all/", views.referral_list, name="list"),
    path("new/", views.referral_new, name="new"),
    path("new/patient/<int:patient_pk>/", views.referral_new, name="new_for_patient"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/accept/", views.referral_accept, name="accept"),
    path("<int:pk>/request-info/", views.referral_request_info, name="request_info"),
    path("<int:pk>/info-received/", views.referral_info_received, name="info_received"),
    path("<int:pk>/decline/", views.referral_decline, name="decline"),
    path("<int:pk>/withdraw/", views.referral_withdraw, name="withdraw"),
    path("<int:pk>/reply/", views.referral_reply, name="reply"),
    path("<int:pk>/documents/<int:attachment_pk>/", views.referral_attachment, name="attachment"),
    path("<int:pk>/contact/", views.referral_contact, name="contact"),
    path("<int:pk>/first-appointment/", views.referral_first_appointment, name="first_appointment"),
]
