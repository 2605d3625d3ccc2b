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


class ThrottleWindow(models.Model):
    """How many times one key (a hashed client id, address or user name) was counted in one fixed window.

    In the database, not in process memory, so every worker of every server shares the count."""

    scope = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash", "window_start"], name="throttle_window_unique"),
        ]
        indexes = [models.Index(fields=["window_start"])]


class IdempotencyRecord(models.Model):
    """One keyed state-changing request and its outcome, so that a replay changes nothing.

    Keyed by who sent it (``owner``: ``user:<id>``, ``client:<client id>`` or ``anon``) and the key they
    chose (a page form's hidden one-time key, or an ``Idempotency-Key`` header).  ``fingerprint`` is an
    HMAC of the request (method, path, body) so that the same key with a different request is refused.
    The row is written in the same transaction as the change it guards (see ``core.idempotency``).
    ``body`` keeps the JSON answer of API and FHIR requests for the replay; rows expire after
    ``IDEMPOTENCY_RETENTION_HOURS``.
    """

    owner = models.CharField(max_length=100)
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    location = models.CharField(max_length=500, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]
