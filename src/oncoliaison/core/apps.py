from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "oncoliaison.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checkpoints,  # noqa: F401  (declares the audit checkpoint's scheduled job)
            idempotency,  # noqa: F401  (declares the expiry of idempotency keys)
        )
