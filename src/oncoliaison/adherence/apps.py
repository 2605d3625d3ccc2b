from django.apps import AppConfig


class AdherenceConfig(AppConfig):
    name = "oncoliaison.adherence"
    label = "adherence"
    verbose_name = "Treatment adherence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (declares the daily refresh of the year-to-date figures)
