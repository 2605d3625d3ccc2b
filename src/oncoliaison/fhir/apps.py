from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "oncoliaison.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"
