from django.apps import AppConfig


class OncologyConfig(AppConfig):
    name = "oncoliaison.oncology"
    label = "oncology"
    default_auto_field = "django.db.models.BigAutoField"
