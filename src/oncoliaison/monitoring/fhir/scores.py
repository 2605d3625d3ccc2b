"""FHIR Observation of derived symptom scores (read, search), ``derivedFrom`` the QuestionnaireResponse."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    READ,
    SEARCH,
    ResourceMapper,
    SearchParam,
    register,
)

from .. import selectors
from ..models import SymptomScore
from .common import (
    BAND_INTERPRETATION,
    CS_INTERPRETATION,
    CS_OBS_CATEGORY,
    CS_SCORE,
    SP,
    SymptomIds,
    fid,
    prefixed_reference,
    staff_or_system,
)

# --- Observation (derived scores) ---------------------------------------------------------------------------


@register
class SymptomScoreObservationMapper(SymptomIds, ResourceMapper):
    resource_type = "Observation"
    model = SymptomScore
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = (f"Scores derived from symptom reports (code system {CS_SCORE}): ESAS-r item scores and "
                     "sums, PRO-CTCAE composite grades (0-3) and presence; derivedFrom the QuestionnaireResponse.")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "Observation-subject"),
        SearchParam("code", "token", f"Score code in {CS_SCORE}, e.g. esas-tsds, proctcae-9.",
                    lambda _n, v: Q(code=params.token(v)[1]) if params.token(v)[0] in (None, CS_SCORE)
                    else Q(pk__in=[]), SP + "clinical-code"),
        SearchParam("derived-from", "reference", "The QuestionnaireResponse.",
                    prefixed_reference("report_id", "QuestionnaireResponse"), SP + "Observation-derived-from"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        staff_or_system(actor, "symptom scores")

    def queryset_for(self, actor: Actor) -> QuerySet[SymptomScore]:
        return selectors.score_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("report")

    versioned = False  # never changed in place
    updated_field = "report__received_at"

    def to_fhir(self, s: SymptomScore) -> dict[str, Any]:
        body: dict[str, Any] = {
            "resourceType": "Observation",
            "id": fid(s.pk),
            "meta": codes.meta(1, s.report.received_at),
            "status": "final",
            "category": [{"coding": [codes.coding(CS_OBS_CATEGORY, "survey", "Survey")]}],
            "code": {"coding": [codes.coding(CS_SCORE, s.code, s.label)], "text": s.label},
            "subject": codes.ref("Patient", s.patient_id),
            "effectiveDateTime": codes.instant(s.report.authored_at),
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{fid(s.report_id)}"}],
        }
        if s.value is None:
            body["dataAbsentReason"] = {"coding": [codes.coding(
                "http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-asked" if not s.note else "error",
                "Not computable")], "text": s.note or "Not computable"}
        else:
            body["valueInteger"] = s.value
            body["referenceRange"] = [{"low": {"value": 0}, "high": {"value": s.max_value}}]
        if s.band in BAND_INTERPRETATION:
            code, display = BAND_INTERPRETATION[s.band]
            body["interpretation"] = [{"coding": [codes.coding(CS_INTERPRETATION, code, display)], "text": s.band}]
        return body
