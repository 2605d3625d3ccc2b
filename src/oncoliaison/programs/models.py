"""Program episodes: a patient's enrollment in the Cancer Liaison Program (FHIR EpisodeOfCare)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class EpisodeStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    ONHOLD = "onhold", "On hold"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"


# Statuses in which the episode is still open: a patient has at most one per organisation.
OPEN_EPISODE_STATUSES = (EpisodeStatus.PLANNED, EpisodeStatus.ACTIVE, EpisodeStatus.ONHOLD)


class ProgramEpisode(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="program_episodes")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT,
                                     related_name="program_episodes")
    status = models.CharField(max_length=16, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE)
    period_start = models.DateField()
    period_end = models.DateField(null=True, blank=True)
    navigator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  help_text="The patient's nurse navigator in the program.")
    clp = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                            verbose_name="Cancer Liaison Physician")
    referral = models.ForeignKey("referrals.Referral", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="episodes")
    care_team = models.ForeignKey("patients.CareTeam", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="episodes")
    status_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The patient's open work as the navigator's worklist ranks it (careplans.workload keeps it): overdue
    # open tasks (urgent among them) and open barriers, and the urgency they add up to (programs.caseload).
    # ``load_stale`` is set by every task or barrier write of the patient; ``load_valid_until`` is the
    # day an open task next falls overdue.  A stale or expired load is recomputed when a worklist reads it.
    load_overdue_tasks = models.PositiveIntegerField(default=0, editable=False)
    load_overdue_urgent_tasks = models.PositiveIntegerField(default=0, editable=False)
    load_open_barriers = models.PositiveIntegerField(default=0, editable=False)
    load_score = models.IntegerField(default=0, editable=False)
    load_stale = models.BooleanField(default=True, editable=False)
    load_valid_until = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "organization"],
                condition=Q(status__in=["planned", "active", "onhold"]),
                name="program_episode_one_open_per_patient_and_organization",
            ),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True) | Q(period_end__gte=F("period_start")),
                name="program_episode_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            # A navigator's caseload (worklists) read from the index alone: every worklist section joins it.
            models.Index(fields=["navigator", "organization", "patient"],
                         condition=Q(status__in=["planned", "active", "onhold"]), name="episode_open_caseload"),
            # ... and ranked by its load, with what tells whether the load must be recomputed.
            models.Index(fields=["navigator", "organization", "-load_score", "patient"],
                         include=["load_stale", "load_valid_until"],
                         condition=Q(status__in=["planned", "active", "onhold"]), name="episode_open_by_load"),
        ]

    def __str__(self) -> str:
        return f"Program episode #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_EPISODE_STATUSES


class NavigatorHandoff(models.Model):
    """One hand-off of a patient's program episode from one navigator to another, with the note for the
    navigator who takes over (written by ``worklists.services.patients_hand_off``, never edited)."""

    episode = models.ForeignKey(ProgramEpisode, on_delete=models.CASCADE, related_name="handoffs")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    from_navigator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                       related_name="+")
    to_navigator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True, help_text="For the navigator who takes over")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["to_navigator", "-at"]), models.Index(fields=["episode", "-at"])]
