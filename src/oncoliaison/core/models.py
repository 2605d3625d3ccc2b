"""The audit log: append-only, hash-chained (ONC §170.315(d)(2)/(d)(3)/(d)(10); ASTM E2147 fields)."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    SEARCH = "search", "Query"
    PRINT = "print", "Print"
    EXPORT = "export", "Export"
    LOGIN = "login", "Log-in"
    LOGOUT = "logout", "Log-out"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    ACCESS_DENIED = "access_denied", "Access denied"
    ADMIN = "admin", "Administration"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    """One audited action.  Never updated or deleted: a trigger refuses it on PostgreSQL and SQLite.

    ``hash`` = HMAC-SHA256(key outside the database, prev_hash ‖ canonical fields), so editing,
    deleting or reordering any row breaks the chain that ``oncoliaison audit-verify`` walks.
    """

    seq = models.BigIntegerField(unique=True)
    recorded_at = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    username = models.CharField(max_length=150, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    role = models.CharField(max_length=32, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    category = models.CharField(max_length=40, blank=True, help_text="Data category, e.g. demographics")
    resource_type = models.CharField(max_length=40, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=8, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    source_address = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, blank=True, help_text="web, api, fhir, cli")
    detail = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["organization_id", "recorded_at"])]


class AuditChainHead(models.Model):
    """Singleton row: the last sequence number and hash, locked while appending."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
