"""People who sign in, their second factor, and the API clients systems use."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from oncoliaison.core.roles import UserKind

__all__ = ["ApiClient", "ApiToken", "MfaDevice", "User", "UserKind"]  # UserKind is the kernel's (core.roles)


class User(AbstractUser):
    """A person who may sign in.  Staff are FHIR Practitioners; their roles are Memberships."""

    kind = models.CharField(max_length=16, choices=UserKind.choices, default=UserKind.STAFF)
    phone = models.CharField(max_length=40, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    registered_by = models.ForeignKey(
        "organisations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registered_people",
        help_text="Organisation that created this record (for practitioners registered over FHIR).",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["npi"], condition=~models.Q(npi=""), name="user_npi_unique_when_set"
            )
        ]

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username


class MfaDevice(models.Model):
    """A TOTP authenticator.  The seed is encrypted at rest (see core.crypto)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="mfa_device")
    secret_encrypted = models.TextField()
    confirmed = models.BooleanField(default=False)
    last_used_step = models.BigIntegerField(default=0, help_text="Last TOTP time step accepted (no replay).")
    created_at = models.DateTimeField(auto_now_add=True)


class ApiClient(models.Model):
    """An OAuth 2.0 confidential client (client-credentials grant) bound to one organisation."""

    client_id = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.CASCADE, related_name="api_clients"
    )
    scopes = models.TextField(help_text="Space-separated SMART v2 system scopes, e.g. system/Patient.rs")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Last token issued or used (to the minute).")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class ApiToken(models.Model):
    """An issued bearer token.  Only its SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.TextField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Revoked (RFC 7009) before it expired.")

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
