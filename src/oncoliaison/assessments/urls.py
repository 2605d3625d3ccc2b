from django.urls import path

from . import views

app_name = "assessments"
urlpatterns = [
    path("patient/<int:patient_id>/", views.patient_assessments, name="patient"),
    path("patient/<int:patient_id>/new/<slug:code>/", views.assessment_new, name="new"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/withdraw/", views.assessment_withdraw, name="withdraw"),
    path("suggestions/<int:pk>/decide/", views.suggestion_decide, name="suggestion_decide"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/<slug:code>/permission/", views.instrument_permission, name="instrument_permission"),
]
