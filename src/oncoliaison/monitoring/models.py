"""Symptom and side-effect monitoring: instruments as data, reports, scores, schedules and alerts.

Instruments (ESAS-r, PRO-CTCAE, …), their versions, items and licence permissions are rows of
``oncoliaison.instruments`` (purpose "symptom-monitoring"), loaded from the files in
``instruments/data/symptom-monitoring`` (see ``instruments/data/PROVENANCE.md``) by a data migration; their scoring is in
``rules.py`` here.  An instrument whose licence needs permission is usable by a program only once its
administrator records that permission.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.db.models import Q

from oncoliaison.instruments.models import InstrumentVersion

from .rules import order_reason_dicts


class ScoringMethod(models.TextChoices):
    ESAS_R = "esas_r", "ESAS-r sums"
    PROCTCAE = "proctcae_composite", "PRO-CTCAE composite grade"


class SymptomQuestionnaire(InstrumentVersion):
    """A symptom instrument version as this domain serves it (FHIR Questionnaire ``symptom-<n>``)."""

    class Meta:
        proxy = True


class ReportSource(models.TextChoices):
    PORTAL = "portal", "Patient portal"
    PHONE = "phone", "Phone call entered by staff"
    FHIR = "fhir", "Outside app (FHIR)"


class ReporterKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    PROXY = "proxy", "Caregiver on the patient's behalf"
    STAFF = "staff", "Staff member"
    SYSTEM = "system", "Outside app"


class SymptomReport(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="symptom_reports")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="+",
                                     help_text="The patient's managing organisation when reported.")
    version = models.ForeignKey("instruments.InstrumentVersion", on_delete=models.PROTECT, related_name="reports")
    source = models.CharField(max_length=8, choices=ReportSource.choices)
    reporter_kind = models.CharField(max_length=8, choices=ReporterKind.choices)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    client_id = models.CharField(max_length=64, blank=True)
    authored_at = models.DateTimeField(help_text="When the answers were given.")
    received_at = models.DateTimeField()
    free_text = models.TextField(blank=True)
    source_system = models.CharField(max_length=200, blank=True)
    source_id = models.CharField(max_length=255, blank=True)
    highest_severity = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["-authored_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], condition=~Q(source_id=""),
                                    name="symptom_report_source_unique"),
        ]
        indexes = [models.Index(fields=["patient", "version", "-authored_at"])]


class SymptomAnswer(models.Model):
    report = models.ForeignKey(SymptomReport, on_delete=models.CASCADE, related_name="answers")
    link_id = models.CharField(max_length=40)
    value = models.SmallIntegerField(null=True, blank=True, help_text="Coded answer; null = missing")
    text = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "link_id"], name="symptom_answer_unique")]


class ScoreKind(models.TextChoices):
    ITEM = "item", "Symptom item score"
    SCALE = "scale", "Scale (sum)"
    COMPOSITE = "composite", "PRO-CTCAE composite grade"
    PRESENCE = "presence", "Presence"


class SymptomScore(models.Model):
    report = models.ForeignKey(SymptomReport, on_delete=models.CASCADE, related_name="scores")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ScoreKind.choices)
    code = models.CharField(max_length=40, help_text="Symptom or scale code")
    label = models.CharField(max_length=120)
    value = models.SmallIntegerField(null=True, blank=True, help_text="null: not computable (missing items)")
    max_value = models.SmallIntegerField()
    band = models.CharField(max_length=10, blank=True, help_text="none / mild / moderate / severe")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "code"])]


class Severity(models.TextChoices):
    SEVERE = "severe", "Severe"
    MODERATE = "moderate", "Moderate"
    MILD = "mild", "Mild"


SEVERITY_RANK = {"": 0, Severity.MILD: 1, Severity.MODERATE: 2, Severity.SEVERE: 3}


class RuleKind(models.TextChoices):
    SEVERE = "severe", "Symptom reaches severe"
    WORSENING = "worsening", "Symptom worsens since the previous report"
    NEW_SYMPTOM = "new_symptom", "New symptom"
    RED_FLAG = "red_flag", "Red-flag phrase in free text"


class AlertRule(models.Model):
    """One configurable alert rule of a program.  A program with no rows uses ``rules.DEFAULT_RULES``."""

    organization = models.ForeignKey("organisations.Organization", on_delete=models.CASCADE,
                                     related_name="alert_rules")
    kind = models.CharField(max_length=16, choices=RuleKind.choices)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    params = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    disabled_reason = models.TextField(blank=True, help_text="Why the rule was switched off (required)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="monitoring_alert_rule_unique_kind")]


class AlertPolicy(models.Model):
    """Response deadlines of a program.  Defaults: severe 1 hour, moderate next business day."""

    organization = models.OneToOneField("organisations.Organization", on_delete=models.CASCADE,
                                        related_name="alert_policy")
    severe_minutes = models.PositiveIntegerField(default=60)
    moderate_business_days = models.PositiveSmallIntegerField(default=1)
    mild_business_days = models.PositiveSmallIntegerField(default=3)
    business_day_end_hour = models.PositiveSmallIntegerField(default=17)
    holidays = models.JSONField(default=list, blank=True, help_text="ISO dates that are not business days")
    updated_at = models.DateTimeField(auto_now=True)


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED)


class Alert(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="symptom_alerts")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="+")
    report = models.OneToOneField(SymptomReport, on_delete=models.CASCADE, related_name="alert")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    reasons = models.JSONField(help_text="[{rule, symptom, label, severity, detail}], by clinical weight")
    summary = models.TextField(help_text="The reasons in one line, by clinical weight; red flags never cut")
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField()
    deadline = models.DateTimeField()
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="The patient's navigator")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="CLP or physician the alert went to")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["patient", "status"]),
        ]

    @property
    def ordered_reasons(self) -> list[Mapping[str, str]]:
        """The reasons by clinical weight (red flags first), also for alerts stored before that order."""
        return order_reason_dicts(self.reasons or [])


class ActionKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CALLED_PATIENT = "called_patient", "Called the patient"
    ADVISED = "advised", "Advised self-care"
    ESCALATED_TO_PHYSICIAN = "escalated_physician", "Escalated to physician"
    SENT_TO_EMERGENCY = "sent_emergency", "Sent to emergency"
    NOTE = "note", "Note"
    ESCALATED_AUTOMATICALLY = "escalated_auto", "Deadline passed: escalated"
    RESOLVED = "resolved", "Resolved"


STAFF_ACTIONS = (
    ActionKind.CALLED_PATIENT,
    ActionKind.ADVISED,
    ActionKind.ESCALATED_TO_PHYSICIAN,
    ActionKind.SENT_TO_EMERGENCY,
    ActionKind.NOTE,
)

# Every action a person records says what was said or done, in a note: an action that claims contact with
# the patient or a physician is only documented by what was said.
NOTE_REQUIRED: dict[str, str] = {
    ActionKind.CALLED_PATIENT: "Write what was discussed on the call.",
    ActionKind.ADVISED: "Write the self-care advice given.",
    ActionKind.ESCALATED_TO_PHYSICIAN: "Write what the physician needs to know (they will read this note).",
    ActionKind.SENT_TO_EMERGENCY: "Write where the patient was sent and why.",
    ActionKind.NOTE: "Write the note.",
}


class AlertAction(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class ReportSchedule(models.Model):
    """When a patient is asked to report, per care plan (e.g. weekly during active treatment)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="symptom_schedules")
    instrument = models.ForeignKey("instruments.Instrument", on_delete=models.PROTECT, related_name="+")
    care_plan_label = models.CharField(max_length=120, help_text="e.g. Active chemotherapy (FOLFOX)")
    proctcae_terms = models.JSONField(default=list, blank=True,
                                      help_text="PRO-CTCAE term numbers chosen for this care plan")
    frequency_days = models.PositiveSmallIntegerField(default=7)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    next_due_at = models.DateTimeField()
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["active", "next_due_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(frequency_days__gte=1), name="report_schedule_frequency_positive"),
        ]
