from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Exports of patient data: FHIR Bulk Data jobs and the patient compartment that $everything and
    $export both disclose (every resource type the FHIR server serves for a patient)."""

    name = "oncoliaison.exports"
    label = "exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import services  # noqa: F401  (declares the scheduled clean-up of old export files)
