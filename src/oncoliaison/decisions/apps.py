from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "oncoliaison.decisions"
    label = "decisions"
    verbose_name = "Shared decisions"
    default_auto_field = "django.db.models.BigAutoField"
