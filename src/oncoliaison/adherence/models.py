"""Treatment adherence to oral anticancer medication.

A ``Dispense`` is one pharmacy fill (entered by staff or received as FHIR ``MedicationDispense``; a source
system and id make a re-sent fill the same row).  A ``Regimen`` is a patient's cyclic schedule for a drug
(e.g. 14 days on, 7 off), which the regimen-aware PDC rule reads.  ``AdherenceMeasure`` is the stored PDC and
MPR of one patient, drug and calendar year (the current year to date), kept current by the services as fills
arrive and daily for the current year; it is served as a FHIR ``Observation`` and remembers the care-plan task
it raised when the PDC fell below 80 %, so the task is raised once per drug and year.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from oncoliaison.core.records import EditedRecord

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


class DispenseStatus(models.TextChoices):
    COMPLETED = "completed", "Completed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Regimen(EditedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adherence_regimens")
    medication_code = models.CharField(max_length=20)  # RxNorm
    medication_display = models.CharField(max_length=200)
    starts_on = models.DateField()  # cycle 1, day 1
    days_on = models.PositiveSmallIntegerField()
    days_off = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "medication_code"], name="regimen_one_per_patient_drug"),
            models.CheckConstraint(condition=Q(days_on__gte=1), name="regimen_days_on_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.medication_display}: {self.days_on} days on, {self.days_off} off"


class Dispense(EditedRecord):
    """A fill of a pharmacy; ``created_by`` is who recorded it (empty when a pharmacy system sent it)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="dispenses")
    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT, related_name="+")
    medication_code = models.CharField(max_length=20)  # RxNorm
    medication_display = models.CharField(max_length=200)
    dispensed_on = models.DateField()
    days_supply = models.PositiveIntegerField()
    quantity = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    quantity_unit = models.CharField(max_length=30, blank=True)
    regimen = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.SET_NULL, related_name="dispenses")
    status = models.CharField(max_length=20, choices=DispenseStatus.choices, default=DispenseStatus.COMPLETED)
    source_system = models.CharField(max_length=200, blank=True)
    source_id = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "medication_code", "dispensed_on"], name="dispense_patient_drug_date")]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], condition=~Q(source_id=""),
                                    name="dispense_unique_source"),
            models.CheckConstraint(condition=Q(days_supply__gte=1), name="dispense_days_supply_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.medication_display} {self.dispensed_on:%Y-%m-%d} ({self.days_supply} days)"


class AdherenceMeasure(models.Model):
    """PDC and MPR of one patient and drug over one calendar year (to date, for the current year)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adherence_measures")
    medication_code = models.CharField(max_length=20)
    medication_display = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    index_date = models.DateField(null=True, blank=True)
    fill_dates = models.PositiveIntegerField(default=0)
    in_denominator = models.BooleanField(default=False)
    denominator_days = models.PositiveIntegerField(default=0)
    covered_days = models.PositiveIntegerField(default=0)
    supply_days = models.PositiveIntegerField(default=0)
    pdc = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)  # 0..1
    mpr = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)  # may exceed 1
    adherent = models.BooleanField(null=True)
    cyclic = models.BooleanField(default=False)
    follow_up_task = models.ForeignKey("careplans.Task", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "medication_code", "year"], name="adherence_one_per_drug_year"),
        ]

    def __str__(self) -> str:
        return f"PDC {self.medication_display} {self.year}"
