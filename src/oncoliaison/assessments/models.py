"""Needs-assessment instruments as versioned data, filled assessments, their scores and referral suggestions.

FHIR shapes: an ``InstrumentVersion`` is a Questionnaire, an ``Assessment`` with its ``AssessmentAnswer`` rows a
QuestionnaireResponse, an ``AssessmentScore`` an Observation (derivedFrom the response).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class InstrumentVersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Instrument(models.Model):
    """A screening instrument (e.g. the NCCN Distress Thermometer), independent of its versions."""

    code = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    publisher = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    citation = models.TextField(blank=True, help_text="Published source of the items and scoring rules.")
    licence = models.TextField(blank=True, help_text="Licence or terms of use, as published.")
    requires_permission = models.BooleanField(
        default=False,
        help_text="The owner's written permission is needed before use; off until an administrator records it.",
    )
    loinc_code = models.CharField(max_length=20, blank=True, help_text="LOINC panel code, when one exists.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class InstrumentVersion(models.Model):
    """One published version of an instrument: its items, answer options and codes (JSON definition)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=InstrumentVersionStatus.choices, default=InstrumentVersionStatus.ACTIVE
    )
    scoring = models.CharField(max_length=64, help_text="Name of the scoring rule set in assessments.rules")
    definition = models.JSONField(help_text="Items, answer options and codes; see docs/assessments.md")
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the definition file as loaded")
    loaded_from = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument__title", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "version"], name="instrument_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.title} (version {self.version})"


class InstrumentPermission(models.Model):
    """An organisation's switch for an instrument, with the permission it holds from the owner.

    Instruments that need permission stay off for an organisation until a program administrator records the
    permission (reference, holder, date) and enables it.  Every change is audited.
    """

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="permissions")
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.CASCADE, related_name="instrument_permissions"
    )
    enabled = models.BooleanField(default=False)
    permission_reference = models.CharField(
        max_length=200, blank=True, help_text="The owner's permission or licence reference."
    )
    permission_holder = models.CharField(max_length=200, blank=True)
    granted_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "organization"], name="instrument_permission_unique"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(granted_on__isnull=True) | Q(expires_on__gte=models.F("granted_on")),
                name="instrument_permission_period_ordered",
            ),
        ]


class AssessmentStatus(models.TextChoices):
    """FHIR QuestionnaireResponse.status."""

    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    AMENDED = "amended", "Amended"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class FilledBy(models.TextChoices):
    PATIENT = "patient", "The patient"
    PROXY = "proxy", "A caregiver with proxy access"
    STAFF = "staff", "Staff on the patient's behalf"


class Assessment(models.Model):
    """One administration of an instrument to a patient (a QuestionnaireResponse)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="assessments")
    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.PROTECT, related_name="assessments",
        help_text="Organisation under whose care the assessment was taken.",
    )
    instrument_version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.COMPLETED)
    filled_by = models.CharField(max_length=16, choices=FilledBy.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who entered the answers.",
    )
    positive = models.BooleanField(default=False, help_text="Any score of this assessment is positive.")
    started_at = models.DateTimeField()
    authored_at = models.DateTimeField(help_text="When the answers were completed.")
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-authored_at", "-id"]
        indexes = [models.Index(fields=["patient", "authored_at"])]

    def __str__(self) -> str:
        return f"Assessment #{self.pk}"


class AssessmentAnswer(models.Model):
    """One answer to one item (QuestionnaireResponse.item.answer).  A multiple-choice item has a row per choice."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    link_id = models.CharField(max_length=64)
    value_code = models.CharField(max_length=64, blank=True)
    value_integer = models.IntegerField(null=True, blank=True)
    display = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(value_code="") | Q(value_integer__isnull=False), name="answer_has_a_value"
            ),
        ]


class Interpretation(models.TextChoices):
    POSITIVE = "POS", "Positive"
    NEGATIVE = "NEG", "Negative"
    NONE = "", "No interpretation"


class AssessmentScore(models.Model):
    """A score or screening result (an Observation derived from the QuestionnaireResponse), with its reasons."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="assessment_scores")
    code = models.CharField(max_length=64, help_text="Local code, e.g. distress-thermometer")
    loinc_code = models.CharField(max_length=20, blank=True)
    display = models.CharField(max_length=200)
    value_integer = models.IntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    interpretation = models.CharField(max_length=3, choices=Interpretation.choices, blank=True)
    reasons = models.JSONField(default=list)
    effective_at = models.DateTimeField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["assessment_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "code"], name="assessment_score_unique"),
        ]


class ReferralService(models.TextChoices):
    SOCIAL_WORK = "social_work", "Social work"
    PSYCHOLOGY = "psychology", "Psychology / psychiatry"
    DIETITIAN = "dietitian", "Dietitian"
    CHAPLAINCY = "chaplaincy", "Chaplaincy / spiritual care"
    FINANCIAL = "financial_counselling", "Financial counselling"
    GENETICS = "genetics", "Genetic counselling"


class SuggestionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ReferralSuggestion(models.Model):
    """A referral the rules propose after a positive screen; the navigator accepts or rejects it."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="suggestions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="referral_suggestions")
    service = models.CharField(max_length=32, choices=ReferralService.choices)
    reasons = models.JSONField(default=list)
    triggers = models.JSONField(default=list, help_text="Item answers (linkId:code) that led to it.")
    needs = models.JSONField(default=list, help_text="Need codes behind it (see assessments.rules.NEEDS).")
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-urgent", "service"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "service"], name="referral_suggestion_unique"),
        ]
