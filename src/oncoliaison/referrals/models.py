"""Referrals into the Cancer Liaison Program: from clinicians (pages or FHIR ServiceRequest) and from
people referring themselves through the public page.

A person who is not yet registered is described on the referral itself (the "prospective patient"
fields) and becomes a Patient only when a navigator accepts the referral.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReferralKind(models.TextChoices):
    PROVIDER = "provider", "Provider referral"
    SELF = "self", "Self-referral"


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    INFO_REQUESTED = "info_requested", "More information requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (ReferralStatus.RECEIVED, ReferralStatus.INFO_REQUESTED)


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENT = "emergent", "Emergent"


class ReferralSource(models.TextChoices):
    """How the person heard of the program (feeds the awareness metrics)."""

    PHYSICIAN = "physician", _("A physician or other clinician")
    FRIEND_FAMILY = "friend_family", _("Friend or family")
    WEB_SEARCH = "web_search", _("Web search")
    SOCIAL_MEDIA = "social_media", _("Social media")
    EVENT = "event", _("Community or health event")
    ADVOCACY_GROUP = "advocacy_group", _("Patient-advocacy group")
    OTHER = "other", _("Other")


class RequestedService(models.TextChoices):
    NAVIGATION = "navigation", "Patient navigation"
    MEDICAL_ONCOLOGY = "medical_oncology", "Medical oncology consultation"
    SURGICAL_ONCOLOGY = "surgical_oncology", "Surgical oncology consultation"
    RADIATION_ONCOLOGY = "radiation_oncology", "Radiation oncology consultation"
    SECOND_OPINION = "second_opinion", "Second opinion"
    TUMOR_BOARD = "tumor_board", "Tumor board review"
    CLINICAL_TRIALS = "clinical_trials", "Clinical-trial screening"
    GENETIC_COUNSELING = "genetic_counseling", "Genetic counseling"
    SUPPORTIVE_CARE = "supportive_care", "Supportive and psychosocial care"
    FINANCIAL_COUNSELING = "financial_counseling", "Financial counseling"


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Does not meet the program's criteria"
    OUT_OF_SCOPE = "out_of_scope", "Service not offered by the program"
    REFERRED_ELSEWHERE = "referred_elsewhere", "Better served by another program"
    DUPLICATE = "duplicate", "Duplicate of another referral"
    PATIENT_DECLINED = "patient_declined", "The person declined"
    UNABLE_TO_CONTACT = "unable_to_contact", "Unable to contact the person"
    OTHER = "other", "Other"


class Referral(models.Model):
    kind = models.CharField(max_length=16, choices=ReferralKind.choices)
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED,
                              db_index=True)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    receiving_organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="referrals_received",
        help_text="The lead cancer program the referral is addressed to.",
    )
    referring_organization = models.ForeignKey(
        "organisations.Organization", null=True, blank=True, on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    referring_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals_sent",
    )
    referring_clinician_name = models.CharField(
        max_length=200, blank=True, help_text="As given by the referrer when no registered practitioner is known.",
    )
    # The person referred, while not yet (or not knowingly) registered.
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    preferred_language = models.CharField(max_length=16, default="en")
    identifier_system = models.CharField(max_length=200, blank=True, help_text="e.g. the referring hospital's MRN")
    identifier_value = models.CharField(max_length=100, blank=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals",
    )
    reason = models.TextField(help_text="Reason for referral, or the person's own words for a self-referral.")
    cancer_type_text = models.CharField(max_length=200, blank=True)
    cancer_type_system = models.CharField(max_length=100, blank=True)
    cancer_type_code = models.CharField(max_length=40, blank=True)
    stage_text = models.CharField(max_length=40, blank=True, help_text="Stage as known, e.g. IIIA or unknown")
    requested_services = models.JSONField(default=list, blank=True)
    referral_source = models.CharField(max_length=24, choices=ReferralSource.choices, blank=True)
    external_identifier_system = models.CharField(max_length=200, blank=True)
    external_identifier_value = models.CharField(max_length=100, blank=True)

    received_at = models.DateTimeField(db_index=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_appointment_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Accepted, declined or withdrawn.")

    info_request_message = models.TextField(blank=True)
    info_reply_message = models.TextField(blank=True, help_text="The referrer's latest reply to the request")
    decline_reason = models.CharField(max_length=24, choices=DeclineReason.choices, blank=True)
    decline_message = models.TextField(blank=True, help_text="Letter or message to the referrer.")

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["receiving_organization", "status", "received_at"]),
            models.Index(fields=["referring_clinician", "received_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="provider") | Q(referring_organization__isnull=False),
                name="referral_provider_needs_referring_organization",
            ),
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | (~Q(family_name="") & Q(birth_date__isnull=False)),
                name="referral_names_a_person",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | (Q(patient__isnull=False) & Q(accepted_at__isnull=False)),
                name="referral_accepted_links_patient",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | (Q(declined_at__isnull=False) & ~Q(decline_reason="")),
                name="referral_declined_has_reason",
            ),
            models.UniqueConstraint(
                fields=["external_identifier_system", "external_identifier_value"],
                condition=~Q(external_identifier_value=""),
                name="referral_external_identifier_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk}"

    @property
    def person_display(self) -> str:
        """The person as the referral named them.  (The linked record may differ, e.g. after a change of
        name, and is shown only to the receiving program.)"""
        named = f"{self.given_name} {self.family_name}".strip()
        if not named and self.patient_id is not None:
            return self.patient.display_name  # type: ignore[union-attr]  # set: patient_id is checked above
        return named

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def requested_service_labels(self) -> list[str]:
        labels = dict(RequestedService.choices)
        return [str(labels.get(code, code)) for code in self.requested_services]


class ReferralAttachment(models.Model):
    """A document of the referral: listed by the referrer when referring (metadata only, the document stays
    with them), or uploaded with a reply to a request for information (the file itself, in Django's storage
    under a random name; ``name`` is the file name as sent)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    document_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to="referrals/", max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored file")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class ReferralStatusChange(models.Model):
    """History of a referral: every status change and every recorded contact or appointment."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField()
    by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    by_label = models.CharField(max_length=150, blank=True, help_text="Who, when not a person (e.g. a system).")
    from_status = models.CharField(max_length=16, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ReferralStatus.choices)
    event = models.CharField(max_length=40)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    EVENT_LABELS: ClassVar[dict[str, str]] = {
        "received": "Received", "info_requested": "More information requested",
        "info_received": "Information received", "referrer_replied": "Referrer replied", "accepted": "Accepted",
        "declined": "Declined",
        "withdrawn": "Withdrawn", "first_contact": "First contact", "contact": "Contact",
        "first_appointment": "First appointment recorded", "first_appointment_changed": "First appointment changed",
    }

    @property
    def event_label(self) -> str:
        return self.EVENT_LABELS.get(self.event, self.event.replace("_", " ").capitalize())


class SelfReferralAttempt(models.Model):
    """One submission of the public self-referral form, kept to rate-limit by address.

    Only a keyed hash of the address is stored; rows older than the window are pruned.
    """

    address_hash = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)
