from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "oncoliaison.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each domain app declares its FHIR resources and Bundle handlers in its own fhir.py (fhir/registry.py).
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("fhir")
