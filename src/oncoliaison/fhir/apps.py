from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "oncoliaison.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each domain app declares its FHIR resources in its own fhir.py (see fhir/registry.py).
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("fhir")
        from . import bundles  # noqa: F401 - registers the POST [base] dispatcher
