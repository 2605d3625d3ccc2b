from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "oncoliaison.organisations"
    label = "organisations"
    default_auto_field = "django.db.models.BigAutoField"
