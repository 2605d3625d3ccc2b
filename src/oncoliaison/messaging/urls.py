from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.thread_new, name="new"),
    path("new/for/<int:patient_id>/", views.thread_new, name="new_for"),
    path("<int:thread_id>/", views.thread_detail, name="thread"),
    path("<int:thread_id>/reply/", views.thread_reply, name="reply"),
]
