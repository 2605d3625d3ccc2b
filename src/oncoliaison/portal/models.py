"""Invitations to the patient and caregiver portal."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class InvitationKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"


class PortalInvitation(models.Model):
    """A single-use link to set up a portal account, valid for 7 days.  Only the token's SHA-256 is stored.

    A patient invitation links the new account to ``patient``; a caregiver invitation activates the
    account that ``consent`` (the patient's caregiver-proxy grant) names.
    """

    kind = models.CharField(max_length=16, choices=InvitationKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="portal_invitations")
    email = models.EmailField()
    consent = models.ForeignKey(
        "patients.Consent", null=True, blank=True, on_delete=models.CASCADE, related_name="portal_invitations"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="The (not yet active) caregiver account the consent names.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="caregiver") | (Q(consent__isnull=False) & Q(invitee__isnull=False)),
                name="invitation_caregiver_needs_consent",
            ),
        ]
        indexes = [models.Index(fields=["patient", "kind"])]

    def __str__(self) -> str:
        return f"Invitation #{self.pk}"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
