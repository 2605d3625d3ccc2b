from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The start page after sign-in, one per kind of person: staff, patient, caregiver."""

    name = "oncoliaison.home"
    label = "home"
