"""Secure messages: threads between a patient (or their proxy) and the care team, and staff-to-staff threads
about a patient.  Attachments are recorded as metadata (name, type, size) only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ThreadKind(models.TextChoices):
    PATIENT = "patient", "Patient and care team"
    STAFF = "staff", "Staff about a patient"


class ParticipantRole(models.TextChoices):
    PATIENT = "patient", _("Patient")
    PROXY = "proxy", _("Caregiver (proxy)")
    NAVIGATOR = "navigator", _("Navigator (routed)")
    STAFF = "staff", _("Staff")


class Thread(models.Model):
    kind = models.CharField(max_length=16, choices=ThreadKind.choices)
    organization = models.ForeignKey(
        "organisations.Organization",
        on_delete=models.PROTECT,
        related_name="message_threads",
        help_text="Organisation whose team answers the thread (the patient's organisation for patient threads).",
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="message_threads"
    )
    subject = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField(db_index=True)
    routed = models.BooleanField(
        default=True, help_text="False when no navigator could be found; the organisation's staff pick it up."
    )

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="patient") | Q(patient__isnull=False), name="thread_patient_kind_needs_patient"
            ),
        ]
        indexes = [models.Index(fields=["patient", "kind", "last_message_at"])]

    def __str__(self) -> str:
        return f"Thread #{self.pk}"


class ThreadParticipant(models.Model):
    """A person in a thread and how far they have read (read receipts)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_threads")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    notify = models.BooleanField(default=True, help_text="Receives an e-mail notice (never the content).")
    joined_at = models.DateTimeField()
    last_read_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_read_at = models.DateTimeField(null=True, blank=True)
    read_in_emergency = models.BooleanField(
        default=False, help_text="Read under a break-glass emergency access (shown with the read receipt).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="thread_participant_unique")]


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    body = models.TextField()
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When e-mail notices were sent.")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class Attachment(models.Model):
    """What was attached: the file's name, media type and size.  The content is not stored here."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Bytes")

    class Meta:
        ordering = ["id"]
