"""Exports of patient data: FHIR Bulk Data jobs (an API client's asynchronous $export)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ExportLevel(models.TextChoices):
    SYSTEM = "system", "System ($export)"
    PATIENT = "patient", "All patients (Patient/$export)"
    GROUP = "group", "One organisation's patients (Group/[id]/$export)"


class ExportJob(models.Model):
    """One FHIR Bulk Data export: asked for by an API client, claimed by a worker with a conditional UPDATE,
    written as NDJSON files under VAR_DIR/exports/<key>/ that only the same client may download."""

    key = models.CharField(max_length=64, unique=True, help_text="Unguessable id used in the status and file URLs")
    status = models.CharField(max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    level = models.CharField(max_length=8, choices=ExportLevel.choices)
    group_organization = models.ForeignKey("organisations.Organization", null=True, blank=True,
                                           on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.CASCADE, related_name="+",
                                     help_text="The requesting client's organisation")
    client_id = models.CharField(max_length=64)
    scopes = models.CharField(max_length=2000, help_text="The token's scopes when the export was asked for")
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    transaction_time = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=100, blank=True)
    output = models.JSONField(default=list, blank=True, help_text="[{type, file, count}]")
    error = models.CharField(max_length=500, blank=True)
    patient_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The table and index keep the names they were created with when export jobs were the cancer record's.
        db_table = "oncology_exportjob"
        indexes = [models.Index(fields=["status", "created_at"], name="oncology_ex_status_f9c73c_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(level="group") | Q(group_organization__isnull=False),
                                   name="export_job_group_names_organization"),
        ]
