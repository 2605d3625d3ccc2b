from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "oncoliaison.assessments"
    label = "assessments"
    verbose_name = "Needs assessments"
    default_auto_field = "django.db.models.BigAutoField"
