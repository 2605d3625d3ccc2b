"""Needs-assessment pages of the portal (included by portal/urls.py, in the portal namespace)."""

from django.urls import path

from . import assessments_views as views

urlpatterns = [
    path("screens/", views.screen_list, name="screens"),
    path("screens/<slug:code>/", views.screen_fill, name="screen_fill"),
    path("screens/sent/<int:pk>/", views.screen_done, name="screen_done"),
    path("for/<int:patient_id>/screens/", views.screen_list, name="screens_for"),
    path("for/<int:patient_id>/screens/<slug:code>/", views.screen_fill, name="screen_fill_for"),
    path("for/<int:patient_id>/screens/sent/<int:pk>/", views.screen_done, name="screen_done_for"),
]
