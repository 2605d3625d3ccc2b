"""Filled needs assessments, their scores and referral suggestions.

The instruments (definitions, versions, licence permissions) are in ``oncoliaison.instruments``, with the purpose
"needs-assessment"; their scoring is in ``rules.py`` here.  FHIR shapes: an ``InstrumentVersion`` is a
Questionnaire, an ``Assessment`` with its ``AssessmentAnswer`` rows a
QuestionnaireResponse, an ``AssessmentScore`` an Observation (derivedFrom the response).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from oncoliaison.instruments.models import InstrumentVersion


class AssessmentQuestionnaire(InstrumentVersion):
    """A needs-assessment instrument version as this domain serves it (FHIR Questionnaire ``assessment-<n>``)."""

    class Meta:
        proxy = True


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
    instrument_version = models.ForeignKey("instruments.InstrumentVersion", on_delete=models.PROTECT, related_name="assessments")
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
