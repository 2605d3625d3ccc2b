"""The patient's cancer record (mCODE).  Codes are kept with their system and display text."""

from __future__ import annotations

from django.db import models

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


class ConditionCategory(models.TextChoices):
    PRIMARY = "primary", "Primary cancer"
    SECONDARY = "secondary", "Secondary (metastatic) cancer"
    COMORBIDITY = "comorbidity", "Comorbidity"


class ClinicalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RECURRENCE = "recurrence", "Recurrence"
    RELAPSE = "relapse", "Relapse"
    INACTIVE = "inactive", "Inactive"
    REMISSION = "remission", "Remission"
    RESOLVED = "resolved", "Resolved"


class CancerCondition(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="conditions")
    category = models.CharField(max_length=16, choices=ConditionCategory.choices, default=ConditionCategory.PRIMARY)
    code_system = models.CharField(max_length=100, default=SNOMED)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=200)
    body_site_code = models.CharField(max_length=40, blank=True)
    body_site_display = models.CharField(max_length=200, blank=True)
    laterality = models.CharField(max_length=40, blank=True)
    histology_code = models.CharField(max_length=40, blank=True, help_text="ICD-O-3 morphology")
    histology_display = models.CharField(max_length=200, blank=True)
    diagnosed_on = models.DateField(null=True, blank=True)
    clinical_status = models.CharField(max_length=16, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE)
    stage_group = models.CharField(max_length=20, blank=True, help_text="e.g. IIIA (AJCC)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-diagnosed_on", "id"]
