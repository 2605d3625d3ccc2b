from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "oncoliaison.careplans"
    label = "careplans"
    verbose_name = "Care plans and resource directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import workload  # noqa: F401 - keeps the worklist load of a patient's episodes current
