from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "oncoliaison.careplans"
    label = "careplans"
    verbose_name = "Care plans and resource directory"
    default_auto_field = "django.db.models.BigAutoField"
