from django.urls import path

from . import views

app_name = "worklists"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("reassign/", views.reassign, name="reassign"),
    path("handoff/", views.handoff, name="handoff"),
]
