"""Abstract model fields shared by the domains' records (kernel: imports nothing of the project above it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EditedRecord(models.Model):
    """What every row staff edit in place carries: who created it, its version (checked on every change, so
    that two people editing at once never overwrite each other unseen) and when it was created and changed."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
