from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "oncoliaison.monitoring"
    label = "monitoring"
    verbose_name = "Symptom monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (declares the escalation and reminder scheduled job)
