from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "oncoliaison.messaging"
    label = "messaging"
    verbose_name = "Secure messages"
    default_auto_field = "django.db.models.BigAutoField"
