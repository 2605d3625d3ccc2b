"""Forms of the cancer-record entry and correction pages.  They check the shape; ``entry_rules`` the content.

Every coded field is a picker over ``codes`` (value: the code); the service resolves the display text.
"""

from __future__ import annotations

from typing import Any

from django import forms

from . import codes, entry_rules
from .models import (
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    ClinicalStatus,
    ConditionCategory,
    Medication,
    MedicationSource,
    PerformanceStatus,
    Procedure,
    ProcedureKind,
    StageKind,
    StageType,
    VerificationStatus,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STAGE_TYPES = [(StageType.CLINICAL, "Clinical (c)"), (StageType.PATHOLOGICAL, "Pathological (p)")]


def _values(choices: list[str], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((v, v) for v in choices)]


class _PatientForm(forms.Form):
    """A form about one patient: the ``condition`` picker lists that patient's cancers."""

    def __init__(self, *args: Any, cancers: list[CancerCondition] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "condition" in self.fields:
            field = self.fields["condition"]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [("", "Not linked to a cancer"), *((c.pk, c.display) for c in cancers or [])]
            if cancers and len(cancers) == 1 and not self.is_bound and not self.initial.get("condition"):
                self.initial["condition"] = cancers[0].pk


def _condition_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label="Cancer", coerce=int, required=False, empty_value=None)


class ConditionForm(_PatientForm):
    category = forms.ChoiceField(label="Kind", choices=[
        (ConditionCategory.PRIMARY, ConditionCategory.PRIMARY.label),
        (ConditionCategory.SECONDARY, ConditionCategory.SECONDARY.label)])
    code = forms.ChoiceField(label="Diagnosis", choices=codes.choices(codes.CONDITIONS, blank="Choose a diagnosis"),
                             help_text="SNOMED CT")
    body_site = forms.ChoiceField(label="Body site", required=False,
                                  choices=codes.choices(codes.BODY_SITES, blank="Not stated"))
    laterality = forms.ChoiceField(label="Laterality", required=False,
                                   choices=codes.choices(codes.LATERALITY, blank="Not stated"))
    histology = forms.ChoiceField(label="Histology (morphology)", required=False,
                                  choices=[("", "Not stated"), *((c.code, f"{c.display} ({codes.system_name(c.system)}"
                                                                          f" {c.code})") for c in codes.HISTOLOGY)])
    diagnosed_on = forms.DateField(label="Date of diagnosis", widget=DATE)
    clinical_status = forms.ChoiceField(label="Clinical status", choices=ClinicalStatus.choices,
                                        initial=ClinicalStatus.ACTIVE)
    verification_status = forms.ChoiceField(
        label="Verification", initial=VerificationStatus.CONFIRMED,
        choices=[c for c in VerificationStatus.choices if c[0] != VerificationStatus.ENTERED_IN_ERROR])


class StageForm(_PatientForm):
    condition = _condition_field()
    stage_type = forms.ChoiceField(label="Staging", choices=STAGE_TYPES, widget=forms.RadioSelect,
                                   initial=StageType.CLINICAL)
    t = forms.ChoiceField(label="T (primary tumor)", required=False, choices=_values(codes.T_CATEGORIES, "—"))
    n = forms.ChoiceField(label="N (regional nodes)", required=False, choices=_values(codes.N_CATEGORIES, "—"))
    m = forms.ChoiceField(label="M (distant metastases)", required=False, choices=_values(codes.M_CATEGORIES, "—"))
    group = forms.ChoiceField(label="Stage group", required=False, choices=_values(codes.STAGE_GROUPS, "—"),
                              help_text="AJCC Cancer Staging Manual, 8th edition.")
    effective_on = forms.DateField(label="Date of staging", widget=DATE)


class StageRowForm(forms.Form):
    """Correcting one category of a staging assessment."""

    stage_type = forms.ChoiceField(label="Staging", choices=STAGE_TYPES, widget=forms.RadioSelect)
    value = forms.ChoiceField(label="Value")
    effective_on = forms.DateField(label="Date of staging", widget=DATE)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["value"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _values(entry_rules.STAGE_VALUES.get(kind, []), "Choose")
        labels: dict[str, str] = {StageKind.TNM_T: "T (primary tumor)", StageKind.TNM_N: "N (regional nodes)",
                                  StageKind.TNM_M: "M (distant metastases)"}
        field.label = labels.get(kind, "Stage group")


class MarkerForm(_PatientForm):
    condition = _condition_field()
    test = forms.ChoiceField(label="Biomarker test", help_text="LOINC", choices=[
        ("", "Choose a test"),
        *((m.code.code, f"{m.code.display}{'' if m.qualitative else f' ({m.unit})'}") for m in codes.TUMOR_MARKERS)])
    answer = forms.ChoiceField(label="Result (for positive / negative tests)", required=False,
                               choices=codes.choices(codes.MARKER_ANSWERS, blank="—"))
    value = forms.DecimalField(label="Measured value (for measured tests, in the unit shown)", required=False,
                               max_digits=12, decimal_places=4)
    effective_on = forms.DateField(label="Date of the result", widget=DATE)


class ProcedureForm(_PatientForm):
    condition = _condition_field()
    kind = forms.ChoiceField(label="Treatment", widget=forms.RadioSelect, choices=[
        (ProcedureKind.SURGICAL, "Surgery"), (ProcedureKind.RADIOTHERAPY, "Radiotherapy course")])
    code = forms.ChoiceField(label="Operation (for surgery)", required=False,
                             choices=codes.choices(codes.SURGERIES, blank="—"), help_text="SNOMED CT")
    modality = forms.ChoiceField(label="Modality (for radiotherapy)", required=False,
                                 choices=codes.choices(codes.RADIOTHERAPY_MODALITIES, blank="—"))
    intent = forms.ChoiceField(label="Treatment intent", required=False,
                               choices=codes.choices(codes.TREATMENT_INTENTS, blank="Not stated"))
    body_site = forms.ChoiceField(label="Body site", required=False,
                                  choices=codes.choices(codes.BODY_SITES, blank="Not stated"))
    laterality = forms.ChoiceField(label="Laterality", required=False,
                                   choices=codes.choices(codes.LATERALITY, blank="Not stated"))
    status = forms.ChoiceField(label="Status", choices=list(entry_rules.PROCEDURE_STATUSES.items()))
    start = forms.DateField(label="Date (start)", widget=DATE)
    end = forms.DateField(label="End date", required=False, widget=DATE)
    sessions = forms.IntegerField(label="Sessions (radiotherapy)", required=False, min_value=1, max_value=100)
    total_dose_cgy = forms.DecimalField(label="Total dose in cGy (radiotherapy)", required=False, max_digits=8,
                                        decimal_places=2)


class MedicationForm(_PatientForm):
    condition = _condition_field()
    code = forms.ChoiceField(label="Medication", choices=codes.choices(codes.MEDICATIONS, blank="Choose"),
                             help_text="RxNorm")
    source_type = forms.ChoiceField(label="Recorded as", choices=MedicationSource.choices,
                                    initial=MedicationSource.REQUEST)
    status = forms.ChoiceField(label="Status", choices=list(entry_rules.MEDICATION_STATUSES.items()))
    intent = forms.ChoiceField(label="Treatment intent", required=False,
                               choices=codes.choices(codes.TREATMENT_INTENTS, blank="Not stated"))
    start = forms.DateField(label="Start date", widget=DATE)
    end = forms.DateField(label="End date", required=False, widget=DATE)
    dose_text = forms.CharField(label="Dose and schedule", max_length=255, required=False)
    termination_reason = forms.CharField(label="Why stopped (when stopped)", max_length=200, required=False)


class PerformanceForm(_PatientForm):
    score = forms.TypedChoiceField(
        label="ECOG performance status", coerce=int, widget=forms.RadioSelect,
        choices=[(grade, f"{grade} — {text}") for grade, text in codes.ECOG_DEFINITIONS.items()],
        help_text="Oken MM et al. Am J Clin Oncol 1982;5:649-655 (ECOG-ACRIN).")
    effective_on = forms.DateField(label="Date of the assessment", widget=DATE)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason for the correction", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Kept with the previous version, e.g. 'transcription error; pathology "
                                       "report of 3 May'.")
    version = forms.IntegerField(widget=forms.HiddenInput)


ENTRY_FORMS: dict[str, type[forms.Form]] = {
    "condition": ConditionForm, "stage": StageForm, "marker": MarkerForm, "procedure": ProcedureForm,
    "medication": MedicationForm, "performance": PerformanceForm,
}
TITLES = {"condition": "a diagnosis", "stage": "a staging assessment", "marker": "a biomarker result",
          "procedure": "a surgery or radiotherapy course", "medication": "a cancer medication",
          "performance": "a performance status (ECOG)"}


def _day(value: Any) -> Any:
    from django.utils import timezone

    return timezone.localdate(value) if value is not None and hasattr(value, "tzinfo") else value


def initial_for(record_type: str, obj: Any) -> dict[str, Any]:
    """A correction form's starting values: the row as stored."""
    if isinstance(obj, CancerCondition):
        return {"category": obj.category, "code": obj.code, "body_site": obj.body_site_code,
                "laterality": obj.laterality_code, "histology": obj.histology_code, "diagnosed_on": obj.diagnosed_on,
                "clinical_status": obj.clinical_status, "verification_status": obj.verification_status}
    if isinstance(obj, CancerStage):
        value = obj.value_display
        if obj.kind != StageKind.STAGE_GROUP and value[:1] in {"c", "p"}:
            value = value[1:]
        return {"stage_type": obj.stage_type, "value": value, "effective_on": obj.effective_on}
    if isinstance(obj, ClinicalObservation):
        return {"condition": obj.condition_id, "test": obj.code, "answer": obj.value_code,
                "value": obj.value_quantity, "effective_on": _day(obj.effective_at)}
    if isinstance(obj, Procedure):
        modality = next((c.code for c in codes.RADIOTHERAPY_MODALITIES if c.display == obj.modality), "")
        side = next((c.code for c in codes.LATERALITY if c.display == obj.laterality), "")
        return {"condition": obj.condition_id, "kind": obj.kind, "code": obj.code, "modality": modality,
                "intent": obj.intent_code, "body_site": obj.body_site_code, "laterality": side,
                "status": obj.status if obj.status in entry_rules.PROCEDURE_STATUSES else "completed",
                "start": _day(obj.performed_start), "end": _day(obj.performed_end), "sessions": obj.sessions,
                "total_dose_cgy": obj.total_dose_cgy}
    if isinstance(obj, Medication):
        return {"condition": obj.condition_id, "code": obj.code, "source_type": obj.source_type,
                "status": obj.status if obj.status in entry_rules.MEDICATION_STATUSES else "active",
                "intent": obj.intent_code, "start": _day(obj.start), "end": _day(obj.end), "dose_text": obj.dose_text,
                "termination_reason": obj.termination_reason}
    if isinstance(obj, PerformanceStatus):
        return {"score": obj.score, "effective_on": _day(obj.effective_at)}
    return {}
