from django.apps import AppConfig


class TumorBoardsConfig(AppConfig):
    name = "oncoliaison.tumorboards"
    label = "tumorboards"
    verbose_name = "Tumor boards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (declares the daily concordance check)
