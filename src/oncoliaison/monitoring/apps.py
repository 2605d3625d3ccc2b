from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "oncoliaison.monitoring"
    label = "monitoring"
    verbose_name = "Symptom monitoring"
    default_auto_field = "django.db.models.BigAutoField"
