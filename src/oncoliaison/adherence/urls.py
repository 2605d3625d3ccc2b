from django.urls import path

from . import views

app_name = "adherence"
urlpatterns = [
    path("patient/<int:patient_id>/", views.patient_adherence, name="patient"),
    path("patient/<int:patient_id>/dispenses/", views.dispense_add, name="dispense_add"),
    path("patient/<int:patient_id>/regimens/", views.regimen_set, name="regimen_set"),
    path("dispenses/<int:pk>/entered-in-error/", views.dispense_error, name="dispense_error"),
]
