from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "oncoliaison.patients"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from oncoliaison.core.access import owner_patient_id
        from oncoliaison.core.refusals import register_route_owner

        from .models import Patient

        # A refused request for /…/patients/<patient_id>/… is shown to that patient's organisation.
        register_route_owner("patient_id", lambda value: owner_patient_id(Patient, value, "pk"))
