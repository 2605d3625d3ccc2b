from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "oncoliaison.programs"
    label = "programs"
    verbose_name = "Program episodes"
    default_auto_field = "django.db.models.BigAutoField"
