"""Customised care plans (goals, interventions, tasks, barriers to care) and the resource directory.

FHIR shapes: CarePlan (with activities = interventions), Goal, Task.  Barriers are kept as our own rows and shown
on the plan; resources are matched to the patient's needs, language and cancer type.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from oncoliaison.core.records import EditedRecord


class CarePlanStatus(models.TextChoices):
    """FHIR CarePlan.status."""

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ON_HOLD = "on-hold", "On hold"
    REVOKED = "revoked", "Revoked"
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class CarePlan(EditedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_plans")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="care_plans")
    status = models.CharField(max_length=20, choices=CarePlanStatus.choices, default=CarePlanStatus.DRAFT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    period_start = models.DateField()
    period_end = models.DateField(null=True, blank=True)
    source_assessment = models.ForeignKey(
        "assessments.Assessment", null=True, blank=True, on_delete=models.SET_NULL, related_name="care_plans"
    )
    generation_notes = models.JSONField(default=list, help_text="Rules applied when the plan was generated.")

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                name="care_plan_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Care plan #{self.pk}"


class GoalStatus(models.TextChoices):
    """FHIR Goal.lifecycleStatus (the subset a navigator uses)."""

    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Achieved"
    CANCELLED = "cancelled", "Cancelled"


class Goal(models.Model):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(max_length=300)
    need = models.CharField(max_length=32, blank=True, help_text="Need code (assessments.rules.NEEDS)")
    status = models.CharField(max_length=16, choices=GoalStatus.choices, default=GoalStatus.PROPOSED)
    target_date = models.DateField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    @property
    def need_label(self) -> str:
        from oncoliaison.assessments.rules import NEEDS

        return NEEDS.get(self.need, self.need)


class ActivityStatus(models.TextChoices):
    """FHIR CarePlan.activity.detail.status."""

    NOT_STARTED = "not-started", "Not started"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Intervention(models.Model):
    """An activity of the care plan (a referral, education, counselling…) serving one goal."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="interventions")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="interventions")
    description = models.CharField(max_length=300)
    service = models.CharField(max_length=32, blank=True, help_text="Referral service, when it is a referral")
    status = models.CharField(max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.NOT_STARTED)
    reasons = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class TaskStatus(models.TextChoices):
    """FHIR Task.status (the subset used for care coordination)."""

    REQUESTED = "requested", "To do"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class TaskPriority(models.TextChoices):
    """FHIR request priority."""

    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    ASAP = "asap", "As soon as possible"
    STAT = "stat", "Immediately (stat)"


_OPEN_TASK_STATUSES = ["requested", "accepted", "in-progress", "on-hold"]  # = rules.TASK_OPEN


class Task(EditedRecord):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="tasks")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="care_tasks")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    intervention = models.ForeignKey(
        Intervention, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="care_tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.REQUESTED)
    priority = models.CharField(max_length=8, choices=TaskPriority.choices, default=TaskPriority.ROUTINE)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"]),
            models.Index(fields=["patient", "status"]),
            # Worklists read open tasks only, by owner or by patient, soonest due first.
            models.Index(fields=["owner", "due_date"], condition=Q(status__in=_OPEN_TASK_STATUSES),
                         name="task_open_by_owner_due"),
            models.Index(fields=["patient", "due_date"], include=["priority", "id"],
                         condition=Q(status__in=_OPEN_TASK_STATUSES), name="task_open_by_patient_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="task_completed_has_time",
            ),
        ]


class TaskEvent(models.Model):
    """Status and owner history of a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]


class BarrierKind(models.TextChoices):
    TRANSPORTATION = "transportation", "Transportation"
    FINANCIAL = "financial", "Financial"
    INSURANCE = "insurance", "Insurance"
    LANGUAGE = "language", "Language"
    HEALTH_LITERACY = "health_literacy", "Health literacy"
    CHILDCARE = "childcare", "Child care"
    HOUSING = "housing", "Housing"
    WORK = "work", "Work"
    FEAR_DISTRUST = "fear_distrust", "Fear or distrust"
    CAREGIVING = "caregiving", "Caring for others"
    FOOD = "food", "Food"
    OTHER = "other", "Other"


class BarrierStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "Being addressed"
    RESOLVED = "resolved", "Resolved"


class Barrier(EditedRecord):
    """A barrier to care, the actions taken on it and when it was resolved."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="barriers")
    care_plan = models.ForeignKey(CarePlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="barriers")
    kind = models.CharField(max_length=20, choices=BarrierKind.choices)
    description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=BarrierStatus.choices, default=BarrierStatus.OPEN)
    actions = models.TextField(blank=True, help_text="What is being done about it.")
    identified_at = models.DateField()
    resolved_at = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)
    reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["status", "-identified_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="resolved") & Q(resolved_at__isnull=False))
                | (~Q(status="resolved") & Q(resolved_at__isnull=True)),
                name="barrier_resolved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("identified_at")),
                name="barrier_resolved_after_identified",
            ),
        ]


class ResourceCategory(models.TextChoices):
    EDUCATION = "education", "Education material"
    SUPPORT_GROUP = "support_group", "Support group"
    FINANCIAL_ASSISTANCE = "financial_assistance", "Financial assistance"
    COUNSELLING = "counselling", "Counselling service"
    TRANSPORT = "transport", "Transport help"
    LODGING = "lodging", "Lodging help"


class ResourceAudience(models.TextChoices):
    PATIENTS = "patients", "Patients"
    CAREGIVERS = "caregivers", "Caregivers and families"
    BOTH = "both", "Patients and caregivers"


class ResourceCost(models.TextChoices):
    FREE = "free", "Free"
    LOW = "low", "Low cost"
    SLIDING = "sliding", "Sliding scale"
    INSURANCE = "insurance", "Covered by most insurance"
    PAID = "paid", "Paid"


class Resource(EditedRecord):
    """An entry of the program's resource directory."""

    organization = models.ForeignKey(
        "organisations.Organization", on_delete=models.CASCADE, related_name="resources",
        help_text="Program that curates this entry.",
    )
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=24, choices=ResourceCategory.choices)
    description = models.TextField(blank=True)
    audience = models.CharField(max_length=16, choices=ResourceAudience.choices, default=ResourceAudience.BOTH)
    needs = models.JSONField(default=list, help_text="Need codes it addresses (assessments.rules.NEEDS)")
    cancer_types = models.JSONField(default=list, help_text="Cancer-type keys; empty = any cancer")
    languages = models.JSONField(default=list, help_text="Language codes offered, e.g. en, es")
    eligibility = models.TextField(blank=True)
    cost = models.CharField(max_length=16, choices=ResourceCost.choices, default=ResourceCost.FREE)
    cost_note = models.CharField(max_length=200, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    url = models.URLField(max_length=500, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="resource_name_unique_per_program"),
        ]

    def __str__(self) -> str:
        return self.name


class PlanResource(models.Model):
    """A resource recommended in a care plan, with the reasons it matched."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="plan_resources")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="plan_links")
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    rank = models.PositiveSmallIntegerField(default=0)
    reasons = models.JSONField(default=list)
    shared_with_patient = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["care_plan", "resource"], name="plan_resource_unique"),
        ]
