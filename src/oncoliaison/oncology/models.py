"""The patient's cancer record (mCODE).  Codes are kept with their system and display text.

Every record that can arrive from outside (a FHIR Bundle from a referral, a partner hospital or a file)
keeps the identity of the resource it came from — ``source_system`` (the sending system's namespace),
``source_id`` (the entry's fullUrl or ``Type/id``) and ``content_hash`` (SHA-256 of the resource's
canonical JSON) — unique per table, so importing the same content again changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
HGVS = "http://varnomen.hgvs.org"
UCUM = "http://unitsofmeasure.org"
NCIT = "http://ncimeta.nci.nih.gov"


ENTERED_IN_ERROR = "entered-in-error"
AMENDED = "amended"


class SourcedRecord(models.Model):
    """Fields shared by every record: where it came from (imported: source; entered here: who) and its
    version (corrections keep the previous versions as ``CancerRecordRevision`` rows)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    source_system = models.CharField(max_length=200, blank=True,
                                     help_text="Namespace of the sending system (blank: entered here).")
    source_id = models.CharField(max_length=255, blank=True, help_text="fullUrl or Type/id of the resource.")
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the canonical resource JSON.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Who entered it in the pages (blank: imported).")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def _source_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["source_system", "source_id"], condition=~Q(source_id=""), name=f"{name}_source_unique"
    )


# --- conditions ------------------------------------------------------------------------------------


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


class VerificationStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    PROVISIONAL = "provisional", "Provisional"
    DIFFERENTIAL = "differential", "Differential"
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class CancerCondition(SourcedRecord):
    """A primary or secondary cancer, or a comorbid condition (mCODE Primary/Secondary Cancer Condition,
    US Core Condition)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="conditions")
    category = models.CharField(max_length=16, choices=ConditionCategory.choices, default=ConditionCategory.PRIMARY)
    code_system = models.CharField(max_length=100, default=SNOMED)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=200)
    body_site_system = models.CharField(max_length=100, blank=True)
    body_site_code = models.CharField(max_length=40, blank=True)
    body_site_display = models.CharField(max_length=200, blank=True)
    laterality = models.CharField(max_length=40, blank=True)
    laterality_code = models.CharField(max_length=40, blank=True, help_text="SNOMED CT laterality qualifier")
    histology_system = models.CharField(max_length=100, blank=True, help_text="ICD-O-3 or SNOMED CT")
    histology_code = models.CharField(max_length=40, blank=True, help_text="ICD-O-3 morphology")
    histology_display = models.CharField(max_length=200, blank=True)
    diagnosed_on = models.DateField(null=True, blank=True)
    asserted_on = models.DateField(null=True, blank=True)
    abated_on = models.DateField(null=True, blank=True)
    clinical_status = models.CharField(max_length=16, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE,
                                       blank=True)
    verification_status = models.CharField(max_length=16, choices=VerificationStatus.choices, blank=True)
    stage_group = models.CharField(max_length=20, blank=True, help_text="e.g. IIIA (AJCC)")
    stage_system_code = models.CharField(max_length=40, blank=True, help_text="Staging system (SNOMED CT)")
    stage_system_display = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-diagnosed_on", "id"]
        constraints = [_source_unique("cancer_condition")]
        indexes = [models.Index(fields=["patient", "category"])]

    def __str__(self) -> str:
        return self.display

    @property
    def is_cancer(self) -> bool:
        return self.category in {ConditionCategory.PRIMARY, ConditionCategory.SECONDARY}


# --- staging ----------------------------------------------------------------------------------------


class StageKind(models.TextChoices):
    TNM_T = "T", "Primary tumor (T)"
    TNM_N = "N", "Regional nodes (N)"
    TNM_M = "M", "Distant metastases (M)"
    STAGE_GROUP = "group", "Stage group"
    OTHER = "other", "Other staging or grading"


class StageType(models.TextChoices):
    CLINICAL = "clinical", "Clinical"
    PATHOLOGICAL = "pathological", "Pathological"
    UNSPECIFIED = "", "Not stated"


class CancerStage(SourcedRecord):
    """One staging assessment (mCODE TNM category / stage group / Cancer Stage observations)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="cancer_stages")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="stages")
    kind = models.CharField(max_length=8, choices=StageKind.choices)
    stage_type = models.CharField(max_length=16, choices=StageType.choices, blank=True)
    code_system = models.CharField(max_length=100)
    code = models.CharField(max_length=40, help_text="What was assessed, e.g. SNOMED 399504009 clinical T")
    display = models.CharField(max_length=200, blank=True)
    value_system = models.CharField(max_length=100, blank=True)
    value_code = models.CharField(max_length=64, blank=True)
    value_display = models.CharField(max_length=200, blank=True, help_text="e.g. cT3, IIIC")
    system_code = models.CharField(max_length=40, blank=True, help_text="Staging system (method), e.g. AJCC 8")
    system_display = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, default="final")
    effective_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_on", "id"]
        constraints = [_source_unique("cancer_stage")]


# --- observations -----------------------------------------------------------------------------------


class ObservationKind(models.TextChoices):
    TUMOR_MARKER = "tumor_marker", "Tumor marker"
    LABORATORY = "laboratory", "Laboratory result"
    VITAL_SIGN = "vital_sign", "Vital sign"
    TUMOR = "tumor", "Tumor characteristic"
    GENOMIC = "genomic", "Genomic finding (TMB, MSI, implication, region studied)"
    SOCIAL = "social", "Social history"
    COMORBIDITY = "comorbidity", "Comorbidity assessment"
    OTHER = "other", "Other observation"


class ClinicalObservation(SourcedRecord):
    """Tumor markers (ER, PR, HER2, PSA, CEA…), laboratory results, vital signs and other measured facts."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="clinical_observations")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="observations")
    kind = models.CharField(max_length=16, choices=ObservationKind.choices)
    code_system = models.CharField(max_length=100)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, default="final")
    value_quantity = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    value_comparator = models.CharField(max_length=2, blank=True)
    value_unit = models.CharField(max_length=40, blank=True)
    value_system = models.CharField(max_length=100, blank=True)
    value_code = models.CharField(max_length=64, blank=True)
    value_display = models.CharField(max_length=200, blank=True)
    value_text = models.CharField(max_length=500, blank=True, help_text="valueString, valueBoolean, ranges")
    interpretation_code = models.CharField(max_length=40, blank=True)
    interpretation_display = models.CharField(max_length=200, blank=True)
    components = models.JSONField(default=list, blank=True,
                                  help_text="[{code_system, code, display, value, unit}] for panels")
    effective_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "id"]
        constraints = [_source_unique("clinical_observation")]
        indexes = [models.Index(fields=["patient", "kind", "code"])]

    @property
    def value_summary(self) -> str:
        if self.value_quantity is not None:
            number = f"{self.value_quantity.normalize():f}"
            return f"{self.value_comparator}{number} {self.value_unit}".strip()
        return self.value_display or self.value_code or self.value_text


class GenomicVariant(SourcedRecord):
    """mCODE Genomic Variant: gene (HGNC), HGVS changes, clinical significance."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="genomic_variants")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="genomic_variants")
    gene_code = models.CharField(max_length=40, blank=True, help_text="HGNC id, e.g. HGNC:11389")
    gene_display = models.CharField(max_length=100, blank=True, help_text="Gene symbol, e.g. STK11")
    dna_change = models.CharField(max_length=255, blank=True, help_text="HGVS c. / g. notation")
    protein_change = models.CharField(max_length=255, blank=True, help_text="HGVS p. notation")
    variation_system = models.CharField(max_length=100, blank=True, help_text="e.g. ClinVar")
    variation_code = models.CharField(max_length=64, blank=True)
    variation_display = models.CharField(max_length=255, blank=True)
    variant_type = models.CharField(max_length=200, blank=True, help_text="e.g. deletion, fusion, CNV")
    significance_code = models.CharField(max_length=40, blank=True)
    significance_display = models.CharField(max_length=200, blank=True)
    genomic_source = models.CharField(max_length=40, blank=True, help_text="somatic / germline")
    allele_frequency = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    present = models.BooleanField(null=True, help_text="Variant found (False: pertinent negative)")
    method_display = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, default="final")
    effective_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "id"]
        constraints = [_source_unique("genomic_variant")]


# --- treatments -------------------------------------------------------------------------------------


class ProcedureKind(models.TextChoices):
    SURGICAL = "surgical", "Surgery"
    RADIOTHERAPY = "radiotherapy", "Radiotherapy course"
    OTHER = "other", "Other procedure"


class Procedure(SourcedRecord):
    """Cancer-related surgical procedures, radiotherapy course summaries and other procedures."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="procedures")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="procedures")
    kind = models.CharField(max_length=16, choices=ProcedureKind.choices)
    code_system = models.CharField(max_length=100)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20)
    intent_code = models.CharField(max_length=40, blank=True, help_text="mCODE procedure intent (SNOMED CT)")
    intent_display = models.CharField(max_length=200, blank=True)
    body_site_code = models.CharField(max_length=40, blank=True)
    body_site_display = models.CharField(max_length=200, blank=True)
    laterality = models.CharField(max_length=40, blank=True)
    performed_start = models.DateTimeField(null=True, blank=True)
    performed_end = models.DateTimeField(null=True, blank=True)
    modality = models.CharField(max_length=255, blank=True, help_text="Radiotherapy modality and technique")
    sessions = models.PositiveIntegerField(null=True, blank=True)
    total_dose_cgy = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    termination_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-performed_start", "id"]
        constraints = [
            _source_unique("procedure"),
            models.CheckConstraint(
                condition=Q(performed_end__isnull=True) | Q(performed_start__isnull=True)
                | Q(performed_end__gte=models.F("performed_start")),
                name="procedure_period_ordered",
            ),
        ]


class MedicationSource(models.TextChoices):
    REQUEST = "MedicationRequest", "Prescribed"
    ADMINISTRATION = "MedicationAdministration", "Administered"


class Medication(SourcedRecord):
    """A cancer-related (or other) medication request or administration, coded in RxNorm."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="medications")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="medications")
    source_type = models.CharField(max_length=32, choices=MedicationSource.choices)
    code_system = models.CharField(max_length=100)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20)
    request_intent = models.CharField(max_length=20, blank=True, help_text="FHIR request intent, e.g. order")
    intent_code = models.CharField(max_length=40, blank=True, help_text="Treatment intent (SNOMED CT)")
    intent_display = models.CharField(max_length=200, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    dose_text = models.CharField(max_length=255, blank=True)
    termination_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-start", "id"]
        constraints = [_source_unique("medication")]


# --- function and course ----------------------------------------------------------------------------


class PerformanceInstrument(models.TextChoices):
    ECOG = "ecog", "ECOG"
    KARNOFSKY = "karnofsky", "Karnofsky"
    LANSKY = "lansky", "Lansky play-performance"


class PerformanceStatus(SourcedRecord):
    """ECOG 0-5 (LOINC 89247-1), Karnofsky 0-100 (LOINC 89243-0) or Lansky 0-100."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="performance_statuses")
    instrument = models.CharField(max_length=12, choices=PerformanceInstrument.choices)
    score = models.PositiveSmallIntegerField()
    interpretation = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, default="final")
    effective_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "id"]
        constraints = [
            _source_unique("performance_status"),
            models.CheckConstraint(
                condition=~Q(instrument="ecog") | Q(score__lte=5), name="performance_status_ecog_range"
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="performance_status_range"),
        ]


class DiseaseStatus(SourcedRecord):
    """mCODE Cancer Disease Status (LOINC 97509-4): improved, stable, worsening… over time."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="disease_statuses")
    condition = models.ForeignKey(CancerCondition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="disease_statuses")
    value_code = models.CharField(max_length=40)
    value_display = models.CharField(max_length=200, blank=True)
    evidence = models.CharField(max_length=255, blank=True, help_text="Evidence types, e.g. imaging, pathology")
    status = models.CharField(max_length=20, default="final")
    effective_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "id"]
        constraints = [_source_unique("disease_status")]


# --- corrections --------------------------------------------------------------------------------------


class RevisionAction(models.TextChoices):
    AMENDED = "amended", "Corrected"
    ENTERED_IN_ERROR = "entered-in-error", "Marked as entered in error"


class CancerRecordRevision(models.Model):
    """A version of a cancer-record row as it was before a correction: nothing is overwritten unseen."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=24, help_text="condition, stage, observation, procedure, …")
    record_id = models.PositiveBigIntegerField()
    version = models.PositiveIntegerField(help_text="The version this snapshot was (the row is now one higher)")
    action = models.CharField(max_length=20, choices=RevisionAction.choices)
    snapshot = models.JSONField(help_text="The row's fields before the change")
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["record_type", "record_id", "version"]
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id", "version"],
                                               name="cancer_record_revision_one_per_version")]
        indexes = [models.Index(fields=["patient", "changed_at"])]


# --- import bookkeeping -------------------------------------------------------------------------------


class ImportedPatient(models.Model):
    """Which local patient a sending system's Patient resource stands for."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="import_links")
    source_system = models.CharField(max_length=200)
    source_id = models.CharField(max_length=255)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], name="imported_patient_source_unique")
        ]


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    LINKED = "linked", "Linked to an existing patient"
    CREATED = "created", "Registered as a new patient"
    DISMISSED = "dismissed", "Dismissed"


class ImportReview(models.Model):
    """An incoming patient who might be someone we know: a person decides, then the held data imports."""

    organization = models.ForeignKey("organisations.Organization", on_delete=models.PROTECT,
                                     related_name="import_reviews")
    status = models.CharField(max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    reason = models.CharField(max_length=300)
    source_system = models.CharField(max_length=200)
    source_id = models.CharField(max_length=255)
    content_hash = models.CharField(max_length=64)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    candidates = models.ManyToManyField("patients.Patient", blank=True, related_name="+")
    bundle = models.JSONField(help_text="The held entries (this patient and what refers to it), as a collection Bundle")
    resource_count = models.PositiveIntegerField(default=0)
    resolved_patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], condition=Q(status="pending"),
                                    name="import_review_one_pending_per_source"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(status="dismissed") | Q(resolved_patient__isnull=False),
                name="import_review_resolution_names_patient",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"])]
