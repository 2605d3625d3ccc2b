"""FHIR Observation of the cancer record: clinical observations (tumor markers, labs, vital signs,
comorbidities, tumor size), stages, genomic variants, performance status and disease status."""


from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q

from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import SearchParam, register

from .. import rules
from ..models import (
    HGNC,
    HGVS,
    LOINC,
    SNOMED,
    UCUM,
    CancerStage,
    ClinicalObservation,
    DiseaseStatus,
    GenomicVariant,
    ObservationKind,
    PerformanceInstrument,
    PerformanceStatus,
    StageKind,
)
from .common import (
    CS_OBSERVATION_CATEGORY,
    CS_V2_0074,
    DISEASE_STATUS_PROFILE,
    GENOMIC_PROFILE_BY_LOINC,
    GENOMICS,
    MCODE,
    OBSERVATION_CATEGORY,
    OBSERVATION_PROFILES,
    PERFORMANCE,
    SP,
    STAGE_PROFILES,
    TUMOR_PROFILE_BY_CODE,
    VARIANT_PROFILE,
    CancerRecordMapper,
    category,
    code_param,
    concept,
    date_param,
    ext_concept,
    fixed_code,
    instant,
    interpretation,
    json_number,
    meta,
    patient,
    patient_params,
    text,
)

# ===================================== Observation ========================================================

_LAB_CATEGORIES: dict[str, list[str]] = {
    "laboratory": [ObservationKind.TUMOR_MARKER, ObservationKind.LABORATORY, ObservationKind.GENOMIC,
                   ObservationKind.TUMOR],
    "vital-signs": [ObservationKind.VITAL_SIGN],
    "social-history": [ObservationKind.SOCIAL],
    "exam": [ObservationKind.COMORBIDITY],
}


def _category_concept(code: str) -> list[dict[str, Any]]:
    return [{"coding": [codes.coding(CS_OBSERVATION_CATEGORY, code)]}]


@register
class ClinicalObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = ClinicalObservation
    profile = OBSERVATION_PROFILES[ObservationKind.TUMOR_MARKER]
    documentation = ("Cancer record: tumor markers (mCODE Tumor Marker Test), laboratory results, vital signs, "
                     "tumor findings, comorbidity assessments and genomic findings; TNM and stage group "
                     "(ids stage-N), genomic variants (variant-N), ECOG / Karnofsky (perf-N), disease status "
                     "(dstatus-N).  Search by patient, code (system|code), category and date (prefixes).")
    search_params = (
        *patient_params(),
        code_param("LOINC or SNOMED CT code: system|code or code."),
        SearchParam("category", "token", "observation-category: laboratory, vital-signs, social-history, exam, "
                    "survey.", category(_LAB_CATEGORIES, "kind"), SP + "Observation-category"),
        date_param("effective_at", "When observed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, o: ClinicalObservation) -> dict[str, Any]:
        profile = OBSERVATION_PROFILES.get(o.kind, "")
        if o.kind == ObservationKind.TUMOR:
            profile = MCODE + TUMOR_PROFILE_BY_CODE.get(o.code, "mcode-tumor-morphology")
        elif o.kind == ObservationKind.GENOMIC:
            profile = GENOMIC_PROFILE_BY_LOINC.get(o.code, "")
            if o.code in rules.GENOMIC_PROFILE_NAMES:  # Genomics Reporting "tbd" codes name their profile
                profile = GENOMICS + o.code
        out: dict[str, Any] = {"resourceType": "Observation", "id": str(o.pk), "meta": meta(o, profile),
                               "status": o.status or "unknown"}
        if category := OBSERVATION_CATEGORY.get(o.kind):
            out["category"] = _category_concept(category)
        out["code"] = concept(o.code_system, o.code, o.display)
        out["subject"] = patient(o)
        if o.condition_id:
            out["focus"] = [{"reference": f"Condition/{o.condition_id}"}]
        if o.effective_at:
            out["effectiveDateTime"] = instant(o.effective_at)
        if o.value_quantity is not None:
            q: dict[str, Any] = {"value": json_number(o.value_quantity)}
            if o.value_comparator:
                q["comparator"] = o.value_comparator
            if o.value_unit:
                q["unit"] = o.value_unit
            out["valueQuantity"] = q
        elif o.value_code or o.value_display:
            out["valueCodeableConcept"] = concept(o.value_system, o.value_code, o.value_display)
        elif o.value_text:
            out["valueString"] = o.value_text
        if interp := interpretation(o.interpretation_code, o.interpretation_display):
            out["interpretation"] = interp
        comps = [_component(c) for c in o.components or () if isinstance(c, dict) and c.get("code")]
        if comps:
            out["component"] = comps
        return out


def _component(c: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": concept(str(c.get("code_system") or ""), str(c["code"]),
                                            str(c.get("display") or ""))}
    value = str(c.get("value") or "")
    try:
        number = Decimal(value) if value else None
    except ArithmeticError:
        number = None
    if number is not None and number.is_finite():
        q: dict[str, Any] = {"value": json_number(number)}
        if c.get("unit"):
            q["unit"] = str(c["unit"])
        out["valueQuantity"] = q
    elif value:
        out["valueString"] = value
    else:
        out["dataAbsentReason"] = {"coding": [codes.coding(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown", "Unknown")]}
    return out


_STAGE_CODES = {(kind, stype): code for (system, code), (kind, stype) in rules.TNM_CODES.items() if system == SNOMED}


@register
class StageObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = CancerStage
    id_prefix = "stage"
    profile = STAGE_PROFILES[StageKind.STAGE_GROUP]
    search_params = (
        *patient_params(),
        code_param("What was staged, e.g. http://snomed.info/sct|399537006 (clinical stage group)."),
        date_param("effective_on", "Date of the staging; prefixes eq ne lt gt le ge.", dates=True),
    )

    def to_fhir(self, s: CancerStage) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(s),
                               "meta": meta(s, STAGE_PROFILES.get(s.kind, STAGE_PROFILES[StageKind.OTHER])),
                               "status": s.status or "unknown",
                               "code": concept(s.code_system, s.code, s.display), "subject": patient(s)}
        if s.condition_id:
            out["focus"] = [{"reference": f"Condition/{s.condition_id}"}]
        if s.effective_on:
            out["effectiveDateTime"] = s.effective_on.isoformat()
        out["valueCodeableConcept"] = concept(s.value_system, s.value_code, s.value_display)
        if s.system_code or s.system_display:
            out["method"] = concept(SNOMED if s.system_code else "", s.system_code, s.system_display)
        return out


_PRESENT = {True: ("LA9633-4", "Present"), False: ("LA9634-2", "Absent")}


@register
class VariantObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = GenomicVariant
    id_prefix = "variant"
    profile = VARIANT_PROFILE
    search_params = (
        *patient_params(),
        code_param("http://loinc.org|69548-6 (genetic variant assessment).",
                    fixed_code(LOINC, rules.GENOMIC_VARIANT_LOINC)),
        SearchParam("category", "token", "laboratory.", category({"laboratory": []}, "pk"),
                    SP + "Observation-category"),
        date_param("effective_at", "When reported; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, v: GenomicVariant) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Observation", "id": self.fhir_id(v), "meta": meta(v, VARIANT_PROFILE),
            "status": v.status or "unknown",
            "category": [{"coding": [codes.coding(CS_OBSERVATION_CATEGORY, "laboratory")]},
                         {"coding": [codes.coding(CS_V2_0074, "GE", "Genetics")]}],
            "code": concept(LOINC, rules.GENOMIC_VARIANT_LOINC, "Genetic variant assessment"),
            "subject": patient(v),
        }
        if v.condition_id:
            out["focus"] = [{"reference": f"Condition/{v.condition_id}"}]
        if v.effective_at:
            out["effectiveDateTime"] = instant(v.effective_at)
        if v.present is not None:
            code, display = _PRESENT[v.present]
            out["valueCodeableConcept"] = concept(LOINC, code, display)
        if v.method_display:
            out["method"] = text(v.method_display)
        comps: list[dict[str, Any]] = []

        def add(loinc: str, display: str, value: dict[str, Any]) -> None:
            comps.append({"code": concept(LOINC, loinc, display), **value})

        if v.gene_code or v.gene_display:
            add(rules.GENE_STUDIED, "Gene studied [ID]",
                {"valueCodeableConcept": concept(HGNC if v.gene_code else "", v.gene_code, v.gene_display)})
        if v.dna_change:
            add(rules.DNA_CHANGE, "DNA change (c.HGVS)", {"valueCodeableConcept": concept(HGVS, v.dna_change)})
        if v.protein_change:
            add(rules.AMINO_ACID_CHANGE, "Amino acid change (pHGVS)",
                {"valueCodeableConcept": concept(HGVS, v.protein_change)})
        if v.variation_code or v.variation_display:
            add(rules.VARIATION_CODE, "Discrete genetic variant",
                {"valueCodeableConcept": concept(v.variation_system, v.variation_code, v.variation_display)})
        if v.significance_code or v.significance_display:
            add(rules.SIGNIFICANCE, "Genetic variation clinical significance",
                {"valueCodeableConcept": concept(LOINC if v.significance_code.startswith("LA") else "",
                                                  v.significance_code, v.significance_display)})
        if v.genomic_source:
            add(rules.SOURCE_CLASS, "Genomic source class", {"valueCodeableConcept": text(v.genomic_source)})
        if v.allele_frequency is not None:
            add(rules.ALLELE_FREQUENCY, "Sample variant allelic frequency",
                {"valueQuantity": {"value": json_number(v.allele_frequency), "system": UCUM, "code": "1"}})
        if v.variant_type:
            add(rules.VARIANT_TYPE, "DNA change type", {"valueCodeableConcept": text(v.variant_type)})
        if comps:
            out["component"] = comps
        return out


def _instrument_code(name: str, value: str) -> Q:
    system, code = params.token(value)
    q = Q()
    matched = False
    for instrument, (sys, c, _display, _profile) in PERFORMANCE.items():
        if code == c and system in (None, sys):
            q |= Q(instrument=instrument)
            matched = True
    return q if matched else params.NOTHING


@register
class PerformanceObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = PerformanceStatus
    id_prefix = "perf"
    profile = PERFORMANCE[PerformanceInstrument.ECOG][3]
    search_params = (
        *patient_params(),
        code_param("http://loinc.org|89247-1 (ECOG) or http://loinc.org|89243-0 (Karnofsky).", _instrument_code),
        SearchParam("category", "token", "survey.", category({"survey": []}, "pk"), SP + "Observation-category"),
        date_param("effective_at", "When assessed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, p: PerformanceStatus) -> dict[str, Any]:
        system, code, display, profile = PERFORMANCE[PerformanceInstrument(p.instrument)]
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(p), "meta": meta(p, profile),
                               "status": p.status or "unknown", "category": _category_concept("survey"),
                               "code": concept(system, code, display), "subject": patient(p)}
        if p.effective_at:
            out["effectiveDateTime"] = instant(p.effective_at)
        out["valueInteger"] = p.score
        if p.interpretation:
            out["interpretation"] = [text(p.interpretation)]
        return out


@register
class DiseaseStatusObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = DiseaseStatus
    id_prefix = "dstatus"
    profile = DISEASE_STATUS_PROFILE
    search_params = (
        *patient_params(),
        code_param("http://loinc.org|97509-4 (cancer disease status).",
                    fixed_code(LOINC, rules.DISEASE_STATUS_LOINC)),
        date_param("effective_at", "When assessed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, d: DiseaseStatus) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(d),
                               "meta": meta(d, DISEASE_STATUS_PROFILE), "status": d.status or "unknown"}
        evidence = [e.strip() for e in d.evidence.split(",") if e.strip()]
        if evidence:
            out["extension"] = [ext_concept(MCODE + "mcode-cancer-disease-status-evidence-type", text(e))
                                for e in evidence]
        out["code"] = concept(LOINC, rules.DISEASE_STATUS_LOINC, "Cancer disease status")
        out["subject"] = patient(d)
        if d.condition_id:
            out["focus"] = [{"reference": f"Condition/{d.condition_id}"}]
        if d.effective_at:
            out["effectiveDateTime"] = instant(d.effective_at)
        out["valueCodeableConcept"] = concept(SNOMED, d.value_code, d.value_display)
        return out
