"""FHIR Procedure, MedicationRequest and MedicationAdministration of the cancer record."""


from __future__ import annotations

from typing import Any

from django.db.models import Q

from oncoliaison.fhir import params
from oncoliaison.fhir.registry import SearchParam, register

from ..models import (
    SNOMED,
    UCUM,
    Medication,
    MedicationSource,
    Procedure,
    ProcedureKind,
)
from .common import (
    EXT_DATA_ABSENT,
    MCODE,
    MEDICATION_ADMINISTRATION_PROFILE,
    MEDICATION_REQUEST_PROFILE,
    PROCEDURE_PROFILES,
    SP,
    CancerRecordMapper,
    code_param,
    concept,
    date_param,
    ext_concept,
    instant,
    json_number,
    laterality,
    meta,
    patient,
    patient_params,
    text,
)

# ===================================== Procedure ==========================================================


@register
class ProcedureMapper(CancerRecordMapper):
    resource_type = "Procedure"
    model = Procedure
    profile = PROCEDURE_PROFILES[ProcedureKind.SURGICAL]
    documentation = ("Cancer-related surgical procedures and radiotherapy course summaries (mCODE), and other "
                     "procedures (US Core), as imported.")
    search_params = (
        *patient_params(),
        code_param("Procedure code: system|code (SNOMED CT, CPT) or code."),
        SearchParam("status", "token", "Event status, e.g. completed.", lambda _n, v: Q(status=params.token(v)[1]),
                    SP + "Procedure-status"),
        date_param("performed_start", "When performed (start); prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, p: Procedure) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Procedure", "id": str(p.pk),
                               "meta": meta(p, PROCEDURE_PROFILES.get(p.kind, ""))}
        ext: list[dict[str, Any]] = []
        if p.intent_code or p.intent_display:
            ext.append(ext_concept(MCODE + "mcode-procedure-intent",
                                    concept(SNOMED if p.intent_code else "", p.intent_code, p.intent_display)))
        if p.modality:
            for part in p.modality.split("; "):
                names = [n for n in part.split(" / ") if n]
                subs = [{"url": url, "valueCodeableConcept": text(n)}
                        for url, n in zip(("modality", "technique"), names, strict=False)]
                if subs:
                    ext.append({"url": MCODE + "mcode-radiotherapy-modality-and-technique", "extension": subs})
        if p.sessions is not None:
            ext.append({"url": MCODE + "mcode-radiotherapy-sessions", "valueUnsignedInt": p.sessions})
        if p.total_dose_cgy is not None:
            ext.append({"url": MCODE + "mcode-radiotherapy-dose-delivered-to-volume", "extension": [
                {"url": "totalDoseDelivered",
                 "valueQuantity": {"value": json_number(p.total_dose_cgy), "unit": "cGy", "system": UCUM, "code": "cGy"}}
            ]})
        if ext:
            out["extension"] = ext
        out["status"] = p.status or "unknown"
        if p.termination_reason:
            out["statusReason"] = text(p.termination_reason)
        out["code"] = concept(p.code_system, p.code, p.display)
        out["subject"] = patient(p)
        if p.performed_start and p.performed_end:
            out["performedPeriod"] = {"start": instant(p.performed_start), "end": instant(p.performed_end)}
        elif p.performed_start:
            out["performedDateTime"] = instant(p.performed_start)
        elif p.performed_end:
            out["performedPeriod"] = {"end": instant(p.performed_end)}
        if p.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{p.condition_id}"}]
        if p.body_site_code or p.body_site_display:
            site = concept(SNOMED if p.body_site_code else "", p.body_site_code, p.body_site_display)
            if lat := laterality("", p.laterality):
                site["extension"] = lat
            out["bodySite"] = [site]
        return out


# ============================= MedicationRequest / MedicationAdministration ===================================


def _medication_common(m: Medication, out: dict[str, Any]) -> None:
    if m.intent_code or m.intent_display:
        out["extension"] = [ext_concept(MCODE + "mcode-procedure-intent",
                                         concept(SNOMED if m.intent_code else "", m.intent_code, m.intent_display))]


_MED_PARAMS = (
    *patient_params(),
    code_param("Medication code: system|code (RxNorm) or code."),
    SearchParam("status", "token", "Status as recorded, e.g. active, completed, stopped.",
                lambda _n, v: Q(status=params.token(v)[1]), SP + "medications-status"),
)


@register
class MedicationRequestMapper(CancerRecordMapper):
    resource_type = "MedicationRequest"
    model = Medication
    row_filter = {"source_type": MedicationSource.REQUEST}
    profile = MEDICATION_REQUEST_PROFILE
    documentation = "Cancer-related medication requests (mCODE), coded in RxNorm, as imported."
    search_params = (
        *_MED_PARAMS,
        SearchParam("authoredon", "date", "When prescribed (or the planned start); prefixes eq ne lt gt le ge.",
                    params.datetime_filter("start"), SP + "MedicationRequest-authoredon"),
    )

    def to_fhir(self, m: Medication) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "MedicationRequest", "id": str(m.pk),
                               "meta": meta(m, MEDICATION_REQUEST_PROFILE)}
        _medication_common(m, out)
        out["status"] = m.status or "unknown"
        if m.termination_reason:
            out["statusReason"] = text(m.termination_reason)
        out["intent"] = m.request_intent or "order"
        out["medicationCodeableConcept"] = concept(m.code_system, m.code, m.display)
        out["subject"] = patient(m)
        if m.start:
            out["authoredOn"] = instant(m.start)
        if m.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{m.condition_id}"}]
        dosage: dict[str, Any] = {}
        if m.dose_text:
            dosage["text"] = m.dose_text
        if m.start or m.end:
            bounds = {k: instant(v) for k, v in (("start", m.start), ("end", m.end)) if v}
            dosage["timing"] = {"repeat": {"boundsPeriod": bounds}}
        if dosage:
            out["dosageInstruction"] = [dosage]
        # US Core requires a requester; the record keeps none, so it is marked absent.
        out["requester"] = {"extension": [{"url": EXT_DATA_ABSENT, "valueCode": "unknown"}]}
        return out


@register
class MedicationAdministrationMapper(CancerRecordMapper):
    resource_type = "MedicationAdministration"
    model = Medication
    row_filter = {"source_type": MedicationSource.ADMINISTRATION}
    profile = MEDICATION_ADMINISTRATION_PROFILE
    documentation = "Cancer-related medication administrations (mCODE), coded in RxNorm, as imported."
    search_params = (
        *_MED_PARAMS,
        SearchParam("effective-time", "date", "When given (start); prefixes eq ne lt gt le ge.",
                    params.datetime_filter("start"), SP + "MedicationAdministration-effective-time"),
    )

    def to_fhir(self, m: Medication) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "MedicationAdministration", "id": str(m.pk),
                               "meta": meta(m, MEDICATION_ADMINISTRATION_PROFILE)}
        _medication_common(m, out)
        out["status"] = m.status or "unknown"
        if m.termination_reason:
            out["statusReason"] = [text(m.termination_reason)]
        out["medicationCodeableConcept"] = concept(m.code_system, m.code, m.display)
        out["subject"] = patient(m)
        if m.start and m.end:
            out["effectivePeriod"] = {"start": instant(m.start), "end": instant(m.end)}
        elif m.start:
            out["effectiveDateTime"] = instant(m.start)
        elif m.end:
            out["effectivePeriod"] = {"end": instant(m.end)}
        else:
            out["_effectiveDateTime"] = {"extension": [{"url": EXT_DATA_ABSENT, "valueCode": "unknown"}]}
        if m.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{m.condition_id}"}]
        if m.dose_text:
            out["dosage"] = {"text": m.dose_text}
        return out
