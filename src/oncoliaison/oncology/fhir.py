"""The cancer record's door on the FHIR API.

- ``POST /fhir`` with a transaction or batch Bundle imports into the cancer record (``bundle_post``);
- read and search mappers (registered with oncoliaison.fhir.registry) render the stored record as mCODE
  STU4 / US Core resources with ``meta.profile`` set:

==========================  =======================  ==============================================
Stored row                  Resource (id)            Profile
==========================  =======================  ==============================================
CancerCondition             Condition (pk)           mcode-primary-cancer-condition,
                                                     mcode-secondary-cancer-condition, or US Core
                                                     condition-problems-health-concerns
ClinicalObservation         Observation (pk)         mcode-tumor-marker-test, mcode-comorbidities,
                                                     mcode-tumor-size, US Core lab, vital signs, …
CancerStage                 Observation (stage-pk)   mcode-tnm-*-category, mcode-tnm-stage-group,
                                                     mcode-cancer-stage
GenomicVariant              Observation (variant-pk) Genomics Reporting variant (mCODE STU4)
PerformanceStatus           Observation (perf-pk)    mcode-ecog- / mcode-karnofsky-performance-status
DiseaseStatus               Observation (dstatus-pk) mcode-cancer-disease-status
Procedure                   Procedure (pk)           mcode-cancer-related-surgical-procedure,
                                                     mcode-radiotherapy-course-summary, US Core
Medication (request)        MedicationRequest (pk)   mcode-cancer-related-medication-request
Medication (administration) MedicationAdministration mcode-cancer-related-medication-administration
==========================  =======================  ==============================================

Read and search only: these records are written through the Bundle import.  Every resource is linked to
a patient, so reads and searches are audited per patient and scoped through patients.selectors (a
partner's token sees a patient only under an active data-sharing consent).  ``to_fhir`` builds plain
dicts (no fhir.resources objects): the same dicts feed $everything and Bulk Data NDJSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params, registry
from oncoliaison.fhir.registry import READ, SEARCH, ResourceMapper, SearchParam, register
from oncoliaison.patients.selectors import patient_queryset_for, require_patient_access_role

from . import rules
from .importing import bundle_import
from .models import (
    HGNC,
    HGVS,
    LOINC,
    SNOMED,
    UCUM,
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    ConditionCategory,
    DiseaseStatus,
    GenomicVariant,
    Medication,
    MedicationSource,
    ObservationKind,
    PerformanceInstrument,
    PerformanceStatus,
    Procedure,
    ProcedureKind,
    StageKind,
)

AUDIT_CATEGORY = "oncology"
_SP = "http://hl7.org/fhir/SearchParameter/"
MCODE = rules.MCODE
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
GENOMICS = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
CS_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CS_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CS_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CS_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
CS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
EXT_ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
EXT_DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
_STANDARD_INTERPRETATIONS = frozenset({"H", "HH", "L", "LL", "N", "A", "AA", "POS", "NEG", "IND", "DET", "ND",
                                       "HU", "LU", "U", "D", "B", "W", "S", "R", "I", "NR", "E", "EX"})

# --- the profile of each kind of stored row ------------------------------------------------------------

CONDITION_PROFILES: dict[str, str] = {
    ConditionCategory.PRIMARY: MCODE + "mcode-primary-cancer-condition",
    ConditionCategory.SECONDARY: MCODE + "mcode-secondary-cancer-condition",
    ConditionCategory.COMORBIDITY: US_CORE + "us-core-condition-problems-health-concerns",
}
STAGE_PROFILES: dict[str, str] = {
    StageKind.TNM_T: MCODE + "mcode-tnm-primary-tumor-category",
    StageKind.TNM_N: MCODE + "mcode-tnm-regional-nodes-category",
    StageKind.TNM_M: MCODE + "mcode-tnm-distant-metastases-category",
    StageKind.STAGE_GROUP: MCODE + "mcode-tnm-stage-group",
    StageKind.OTHER: MCODE + "mcode-cancer-stage",
}
OBSERVATION_PROFILES: dict[str, str] = {
    ObservationKind.TUMOR_MARKER: MCODE + "mcode-tumor-marker-test",
    ObservationKind.COMORBIDITY: MCODE + "mcode-comorbidities",
    ObservationKind.LABORATORY: US_CORE + "us-core-observation-lab",
    ObservationKind.VITAL_SIGN: "http://hl7.org/fhir/StructureDefinition/vitalsigns",
}
# mCODE STU4 tumor profiles by code (other tumor findings: the Tumor Morphology profile).
TUMOR_PROFILE_BY_CODE = {"21889-1": "mcode-tumor-size", "33728-7": "mcode-tumor-size", "33729-5": "mcode-tumor-size",
                         "31206-6": "mcode-histologic-behavior-and-type", "C18000": "mcode-histologic-grade",
                         "77753-2": "mcode-tumor-morphology"}
GENOMIC_PROFILE_BY_LOINC = {"94076-7": GENOMICS + "tmb", "81695-9": GENOMICS + "msi"}
VARIANT_PROFILE = GENOMICS + "variant"
PERFORMANCE: dict[str, tuple[str, str, str, str]] = {
    PerformanceInstrument.ECOG: (LOINC, rules.ECOG_LOINC, "ECOG Performance Status score",
                                 MCODE + "mcode-ecog-performance-status"),
    PerformanceInstrument.KARNOFSKY: (LOINC, rules.KARNOFSKY_LOINC, "Karnofsky Performance Status score",
                                      MCODE + "mcode-karnofsky-performance-status"),
    PerformanceInstrument.LANSKY: ("http://ncimeta.nci.nih.gov", rules.LANSKY_NCIT, "Lansky Performance Status",
                                   MCODE + "mcode-lansky-play-performance-status"),
}
DISEASE_STATUS_PROFILE = MCODE + "mcode-cancer-disease-status"
PROCEDURE_PROFILES: dict[str, str] = {
    ProcedureKind.SURGICAL: MCODE + "mcode-cancer-related-surgical-procedure",
    ProcedureKind.RADIOTHERAPY: MCODE + "mcode-radiotherapy-course-summary",
    ProcedureKind.OTHER: US_CORE + "us-core-procedure",
}
MEDICATION_REQUEST_PROFILE = MCODE + "mcode-cancer-related-medication-request"
MEDICATION_ADMINISTRATION_PROFILE = MCODE + "mcode-cancer-related-medication-administration"
CANCER_PATIENT_PROFILE = MCODE + "mcode-cancer-patient"

# Observation.category (observation-category codes) of each ClinicalObservation kind.
OBSERVATION_CATEGORY: dict[str, str] = {
    ObservationKind.TUMOR_MARKER: "laboratory",
    ObservationKind.LABORATORY: "laboratory",
    ObservationKind.GENOMIC: "laboratory",
    ObservationKind.VITAL_SIGN: "vital-signs",
    ObservationKind.SOCIAL: "social-history",
    ObservationKind.TUMOR: "laboratory",
    ObservationKind.COMORBIDITY: "exam",
}


# --- import (POST /fhir) ----------------------------------------------------------------------------------


def import_source_for(actor: Actor) -> str:
    """The namespace that makes re-sent resources "the same": per API client, else per organisation."""
    if actor.is_system and actor.client_id:
        return f"urn:oncoliaison:client:{actor.client_id}"
    return f"urn:oncoliaison:organization:{actor.primary_organization_id}"


@registry.register_bundle_handler()  # every transaction or batch no other domain claims: clinical data
def bundle_post(actor: Actor, bundle: dict[str, Any], *, organization_id: int | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, FHIR JSON) for ``POST [base]`` of a transaction or batch Bundle.

    Raises the domain's typed errors (Forbidden, ValidationFailed) for the FHIR view to map.
    """
    result = bundle_import(actor=actor, bundle=bundle, source=import_source_for(actor),
                           organization_id=organization_id, channel="fhir", refuse_unheld=True)
    if result.bundle_type == "transaction" and not result.stored:
        return 400, result.to_operation_outcome()
    return 200, result.to_response_bundle()


# --- element builders ---------------------------------------------------------------------------------------


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if code:
        out["coding"] = [codes.coding(system, code, display) if system else _bare(code, display)]
    if text or (display and not code):
        out["text"] = text or display
    return out


def _bare(code: str, display: str) -> dict[str, str]:
    return {"code": code, "display": display} if display else {"code": code}


def _text(value: str) -> dict[str, str]:
    return {"text": value}


def _number(value: Decimal) -> int | float:
    """A JSON number from a stored decimal (integral values as integers)."""
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


_instants: dict[dt.datetime, str] = {}


def _instant(value: dt.datetime) -> str:
    """codes.instant, remembered: an export renders the same few timestamps many times."""
    text = _instants.get(value)
    if text is None:
        if len(_instants) > 100_000:
            _instants.clear()
        text = _instants[value] = codes.instant(value)
    return text


def _meta(obj: Any, profile: str) -> dict[str, Any]:
    out: dict[str, Any] = {"versionId": "1", "lastUpdated": _instant(obj.updated_at)}
    if profile:
        out["profile"] = [profile]
    return out


def _patient(obj: Any) -> dict[str, str]:
    return {"reference": f"Patient/{obj.patient_id}"}


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: dt.datetime | None) -> str | None:
    return _instant(value) if value else None


def _ext_concept(url: str, concept: dict[str, Any]) -> dict[str, Any]:
    return {"url": url, "valueCodeableConcept": concept}


def _laterality(code: str, display: str) -> list[dict[str, Any]]:
    if not (code or display):
        return []
    return [_ext_concept(MCODE + "mcode-laterality-qualifier", _concept(SNOMED if code else "", code, display))]


def _interpretation(code: str, display: str) -> list[dict[str, Any]]:
    if not (code or display):
        return []
    system = CS_INTERPRETATION if code in _STANDARD_INTERPRETATIONS else ""
    return [_concept(system, code, display)]


# --- search helpers -----------------------------------------------------------------------------------------


def _token(field_system: str, field_code: str) -> Callable[[str, str], Q]:
    """code: ``system|code``, ``code`` or ``system|`` over a (system, code) pair of columns."""

    def apply(name: str, value: str) -> Q:
        system, code = params.token(value)
        if system is None:
            return Q(**{field_code: code})
        if not code:
            return Q(**{field_system: system})
        return Q(**{field_system: system, field_code: code})

    return apply


def _fixed_code(system: str, code: str) -> Callable[[str, str], Q]:
    """code for rows that all carry one code (every disease status is LOINC 97509-4)."""

    def apply(name: str, value: str) -> Q:
        sys, c = params.token(value)
        return Q() if sys in (None, system) and c in ("", code) and (c or sys) else params.NOTHING

    return apply


def _category(allowed: dict[str, list[str]], field: str) -> Callable[[str, str], Q]:
    """category: an observation-category code -> the stored kinds it covers."""

    def apply(name: str, value: str) -> Q:
        system, code = params.token(value)
        if system not in (None, CS_OBSERVATION_CATEGORY) or code not in allowed:
            return params.NOTHING
        kinds = allowed[code]
        return Q(**{f"{field}__in": kinds}) if kinds else Q()

    return apply


def _patient_params() -> tuple[SearchParam, ...]:
    return (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "Observation-subject"),
        SearchParam("_lastUpdated", "date", "When the record last changed here; prefixes eq ne lt gt le ge.",
                    params.datetime_filter("updated_at"), _SP + "Resource-lastUpdated"),
    )


def _code_param(doc: str, fn: Callable[[str, str], Q] | None = None) -> SearchParam:
    return SearchParam("code", "token", doc, fn or _token("code_system", "code"), _SP + "clinical-code")


def _date_param(field: str, doc: str, *, dates: bool = False) -> SearchParam:
    fn = params.date_filter(field) if dates else params.datetime_filter(field)
    return SearchParam("date", "date", doc, fn, _SP + "clinical-date")


# --- the shared mapper ---------------------------------------------------------------------------------------


class CancerRecordMapper(ResourceMapper):
    """Read and search of one table of the cancer record, scoped to the patients the actor may see."""

    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = AUDIT_CATEGORY
    row_filter: ClassVar[dict[str, Any]] = {}

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        if actor.is_system and not actor.allows(self.resource_type, "r"):
            return self.model._default_manager.none()
        return self.rows_for_patients(patient_queryset_for(actor).values("pk"))

    def rows_for_patients(self, patients: Any) -> QuerySet[Any]:
        """This mapper's rows of the given patients (a queryset of patient pks, or a list of pks)."""
        return self.model._default_manager.filter(patient__in=patients, **self.row_filter)

    def version_of(self, obj: Any) -> int:
        return int(getattr(obj, "version", 1))

    def compartment_rows(self, actor: Actor, patient_ids: list[int], since: dt.datetime | None) -> Iterable[Any]:
        """The same rows as ``queryset_for`` for patients the caller checked, through the fast path."""
        if actor.is_system and not actor.allows(self.resource_type, "r"):
            return iter(())
        return self.export_rows(patient_ids, since)

    def export_rows(self, patients: Any, since: dt.datetime | None = None) -> Iterator[Any]:
        """The rows ``to_fhir`` renders, as light named tuples (no model instances: the bulk export's fast
        path), of the given patients, changed since ``since``, in id order."""
        fields = getattr(type(self), "_export_fields", None)
        if fields is None:
            skip = {"created_at", "source_system", "source_id", "content_hash"}
            fields = ["pk", *(f.attname for f in self.model._meta.concrete_fields
                              if f.attname not in skip and not f.primary_key)]
            type(self)._export_fields = fields  # type: ignore[attr-defined]  # cached per mapper class on first export
        rows = self.rows_for_patients(patients)
        if since is not None:
            rows = rows.filter(updated_at__gte=since)
        return rows.order_by("pk").values_list(*fields, named=True).iterator(chunk_size=2000)


# ===================================== Condition ===========================================================


@register
class ConditionMapper(CancerRecordMapper):
    resource_type = "Condition"
    model = CancerCondition
    profile = CONDITION_PROFILES[ConditionCategory.PRIMARY]
    documentation = ("Primary and secondary cancers (mCODE Primary / Secondary Cancer Condition, with histology, "
                     "laterality and stage summary) and comorbid conditions (US Core), as imported.")
    search_params = (
        *_patient_params(),
        _code_param("Condition code: system|code (SNOMED CT, ICD-10-CM) or code."),
        SearchParam("category", "token",
                    "primary-cancer | secondary-cancer | comorbidity (OncoLiaison), or problem-list-item.",
                    lambda _n, v: _condition_category(v), _SP + "Condition-category"),
        SearchParam("clinical-status", "token", "active, recurrence, relapse, inactive, remission, resolved.",
                    lambda _n, v: Q(clinical_status=params.token(v)[1]), _SP + "Condition-clinical-status"),
        SearchParam("onset-date", "date", "Date of diagnosis; prefixes eq ne lt gt le ge.",
                    params.date_filter("diagnosed_on"), _SP + "Condition-onset-date"),
    )

    def to_fhir(self, c: CancerCondition) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Condition",
            "id": str(c.pk),
            "meta": _meta(c, CONDITION_PROFILES.get(c.category, "")),
        }
        ext = []
        if c.histology_code or c.histology_display:
            ext.append(_ext_concept(MCODE + "mcode-histology-morphology-behavior",
                                    _concept(c.histology_system, c.histology_code, c.histology_display)))
        if c.asserted_on:
            ext.append({"url": EXT_ASSERTED_DATE, "valueDateTime": c.asserted_on.isoformat()})
        if ext:
            out["extension"] = ext
        if c.clinical_status:
            out["clinicalStatus"] = {"coding": [codes.coding(CS_CONDITION_CLINICAL, c.clinical_status)]}
        if c.verification_status:
            out["verificationStatus"] = {"coding": [codes.coding(CS_CONDITION_VERIFICATION, c.verification_status)]}
        out["category"] = [{"coding": [codes.coding(CS_CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}]
        out["code"] = _concept(c.code_system, c.code, c.display)
        if c.body_site_code or c.body_site_display:
            site = _concept(c.body_site_system, c.body_site_code, c.body_site_display)
            if lat := _laterality(c.laterality_code, c.laterality):
                site["extension"] = lat
            out["bodySite"] = [site]
        out["subject"] = _patient(c)
        if c.diagnosed_on:
            out["onsetDateTime"] = c.diagnosed_on.isoformat()
        if c.abated_on:
            out["abatementDateTime"] = c.abated_on.isoformat()
        if c.stage_group:
            stage: dict[str, Any] = {"summary": _text(c.stage_group)}
            if c.stage_system_code or c.stage_system_display:
                stage["type"] = _concept(SNOMED if c.stage_system_code else "", c.stage_system_code,
                                         c.stage_system_display)
            out["stage"] = [stage]
        return out


_CONDITION_CATEGORY = {"primary-cancer": ConditionCategory.PRIMARY, "secondary-cancer": ConditionCategory.SECONDARY,
                       "comorbidity": ConditionCategory.COMORBIDITY}


def _condition_category(value: str) -> Q:
    _system, code = params.token(value)
    if code == "problem-list-item":
        return Q()
    if code in _CONDITION_CATEGORY:
        return Q(category=_CONDITION_CATEGORY[code])
    return params.NOTHING


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
        *_patient_params(),
        _code_param("LOINC or SNOMED CT code: system|code or code."),
        SearchParam("category", "token", "observation-category: laboratory, vital-signs, social-history, exam, "
                    "survey.", _category(_LAB_CATEGORIES, "kind"), _SP + "Observation-category"),
        _date_param("effective_at", "When observed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, o: ClinicalObservation) -> dict[str, Any]:
        profile = OBSERVATION_PROFILES.get(o.kind, "")
        if o.kind == ObservationKind.TUMOR:
            profile = MCODE + TUMOR_PROFILE_BY_CODE.get(o.code, "mcode-tumor-morphology")
        elif o.kind == ObservationKind.GENOMIC:
            profile = GENOMIC_PROFILE_BY_LOINC.get(o.code, "")
            if o.code in rules.GENOMIC_PROFILE_NAMES:  # Genomics Reporting "tbd" codes name their profile
                profile = GENOMICS + o.code
        out: dict[str, Any] = {"resourceType": "Observation", "id": str(o.pk), "meta": _meta(o, profile),
                               "status": o.status or "unknown"}
        if category := OBSERVATION_CATEGORY.get(o.kind):
            out["category"] = _category_concept(category)
        out["code"] = _concept(o.code_system, o.code, o.display)
        out["subject"] = _patient(o)
        if o.condition_id:
            out["focus"] = [{"reference": f"Condition/{o.condition_id}"}]
        if o.effective_at:
            out["effectiveDateTime"] = _instant(o.effective_at)
        if o.value_quantity is not None:
            q: dict[str, Any] = {"value": _number(o.value_quantity)}
            if o.value_comparator:
                q["comparator"] = o.value_comparator
            if o.value_unit:
                q["unit"] = o.value_unit
            out["valueQuantity"] = q
        elif o.value_code or o.value_display:
            out["valueCodeableConcept"] = _concept(o.value_system, o.value_code, o.value_display)
        elif o.value_text:
            out["valueString"] = o.value_text
        if interp := _interpretation(o.interpretation_code, o.interpretation_display):
            out["interpretation"] = interp
        comps = [_component(c) for c in o.components or () if isinstance(c, dict) and c.get("code")]
        if comps:
            out["component"] = comps
        return out


def _component(c: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": _concept(str(c.get("code_system") or ""), str(c["code"]),
                                            str(c.get("display") or ""))}
    value = str(c.get("value") or "")
    try:
        number = Decimal(value) if value else None
    except ArithmeticError:
        number = None
    if number is not None and number.is_finite():
        q: dict[str, Any] = {"value": _number(number)}
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
        *_patient_params(),
        _code_param("What was staged, e.g. http://snomed.info/sct|399537006 (clinical stage group)."),
        _date_param("effective_on", "Date of the staging; prefixes eq ne lt gt le ge.", dates=True),
    )

    def to_fhir(self, s: CancerStage) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(s),
                               "meta": _meta(s, STAGE_PROFILES.get(s.kind, STAGE_PROFILES[StageKind.OTHER])),
                               "status": s.status or "unknown",
                               "code": _concept(s.code_system, s.code, s.display), "subject": _patient(s)}
        if s.condition_id:
            out["focus"] = [{"reference": f"Condition/{s.condition_id}"}]
        if s.effective_on:
            out["effectiveDateTime"] = s.effective_on.isoformat()
        out["valueCodeableConcept"] = _concept(s.value_system, s.value_code, s.value_display)
        if s.system_code or s.system_display:
            out["method"] = _concept(SNOMED if s.system_code else "", s.system_code, s.system_display)
        return out


_PRESENT = {True: ("LA9633-4", "Present"), False: ("LA9634-2", "Absent")}


@register
class VariantObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = GenomicVariant
    id_prefix = "variant"
    profile = VARIANT_PROFILE
    search_params = (
        *_patient_params(),
        _code_param("http://loinc.org|69548-6 (genetic variant assessment).",
                    _fixed_code(LOINC, rules.GENOMIC_VARIANT_LOINC)),
        SearchParam("category", "token", "laboratory.", _category({"laboratory": []}, "pk"),
                    _SP + "Observation-category"),
        _date_param("effective_at", "When reported; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, v: GenomicVariant) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Observation", "id": self.fhir_id(v), "meta": _meta(v, VARIANT_PROFILE),
            "status": v.status or "unknown",
            "category": [{"coding": [codes.coding(CS_OBSERVATION_CATEGORY, "laboratory")]},
                         {"coding": [codes.coding(CS_V2_0074, "GE", "Genetics")]}],
            "code": _concept(LOINC, rules.GENOMIC_VARIANT_LOINC, "Genetic variant assessment"),
            "subject": _patient(v),
        }
        if v.condition_id:
            out["focus"] = [{"reference": f"Condition/{v.condition_id}"}]
        if v.effective_at:
            out["effectiveDateTime"] = _instant(v.effective_at)
        if v.present is not None:
            code, display = _PRESENT[v.present]
            out["valueCodeableConcept"] = _concept(LOINC, code, display)
        if v.method_display:
            out["method"] = _text(v.method_display)
        comps: list[dict[str, Any]] = []

        def add(loinc: str, display: str, value: dict[str, Any]) -> None:
            comps.append({"code": _concept(LOINC, loinc, display), **value})

        if v.gene_code or v.gene_display:
            add(rules.GENE_STUDIED, "Gene studied [ID]",
                {"valueCodeableConcept": _concept(HGNC if v.gene_code else "", v.gene_code, v.gene_display)})
        if v.dna_change:
            add(rules.DNA_CHANGE, "DNA change (c.HGVS)", {"valueCodeableConcept": _concept(HGVS, v.dna_change)})
        if v.protein_change:
            add(rules.AMINO_ACID_CHANGE, "Amino acid change (pHGVS)",
                {"valueCodeableConcept": _concept(HGVS, v.protein_change)})
        if v.variation_code or v.variation_display:
            add(rules.VARIATION_CODE, "Discrete genetic variant",
                {"valueCodeableConcept": _concept(v.variation_system, v.variation_code, v.variation_display)})
        if v.significance_code or v.significance_display:
            add(rules.SIGNIFICANCE, "Genetic variation clinical significance",
                {"valueCodeableConcept": _concept(LOINC if v.significance_code.startswith("LA") else "",
                                                  v.significance_code, v.significance_display)})
        if v.genomic_source:
            add(rules.SOURCE_CLASS, "Genomic source class", {"valueCodeableConcept": _text(v.genomic_source)})
        if v.allele_frequency is not None:
            add(rules.ALLELE_FREQUENCY, "Sample variant allelic frequency",
                {"valueQuantity": {"value": _number(v.allele_frequency), "system": UCUM, "code": "1"}})
        if v.variant_type:
            add(rules.VARIANT_TYPE, "DNA change type", {"valueCodeableConcept": _text(v.variant_type)})
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
        *_patient_params(),
        _code_param("http://loinc.org|89247-1 (ECOG) or http://loinc.org|89243-0 (Karnofsky).", _instrument_code),
        SearchParam("category", "token", "survey.", _category({"survey": []}, "pk"), _SP + "Observation-category"),
        _date_param("effective_at", "When assessed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, p: PerformanceStatus) -> dict[str, Any]:
        system, code, display, profile = PERFORMANCE[PerformanceInstrument(p.instrument)]
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(p), "meta": _meta(p, profile),
                               "status": p.status or "unknown", "category": _category_concept("survey"),
                               "code": _concept(system, code, display), "subject": _patient(p)}
        if p.effective_at:
            out["effectiveDateTime"] = _instant(p.effective_at)
        out["valueInteger"] = p.score
        if p.interpretation:
            out["interpretation"] = [_text(p.interpretation)]
        return out


@register
class DiseaseStatusObservationMapper(CancerRecordMapper):
    resource_type = "Observation"
    model = DiseaseStatus
    id_prefix = "dstatus"
    profile = DISEASE_STATUS_PROFILE
    search_params = (
        *_patient_params(),
        _code_param("http://loinc.org|97509-4 (cancer disease status).",
                    _fixed_code(LOINC, rules.DISEASE_STATUS_LOINC)),
        _date_param("effective_at", "When assessed; prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, d: DiseaseStatus) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Observation", "id": self.fhir_id(d),
                               "meta": _meta(d, DISEASE_STATUS_PROFILE), "status": d.status or "unknown"}
        evidence = [e.strip() for e in d.evidence.split(",") if e.strip()]
        if evidence:
            out["extension"] = [_ext_concept(MCODE + "mcode-cancer-disease-status-evidence-type", _text(e))
                                for e in evidence]
        out["code"] = _concept(LOINC, rules.DISEASE_STATUS_LOINC, "Cancer disease status")
        out["subject"] = _patient(d)
        if d.condition_id:
            out["focus"] = [{"reference": f"Condition/{d.condition_id}"}]
        if d.effective_at:
            out["effectiveDateTime"] = _instant(d.effective_at)
        out["valueCodeableConcept"] = _concept(SNOMED, d.value_code, d.value_display)
        return out


# ===================================== Procedure ==========================================================


@register
class ProcedureMapper(CancerRecordMapper):
    resource_type = "Procedure"
    model = Procedure
    profile = PROCEDURE_PROFILES[ProcedureKind.SURGICAL]
    documentation = ("Cancer-related surgical procedures and radiotherapy course summaries (mCODE), and other "
                     "procedures (US Core), as imported.")
    search_params = (
        *_patient_params(),
        _code_param("Procedure code: system|code (SNOMED CT, CPT) or code."),
        SearchParam("status", "token", "Event status, e.g. completed.", lambda _n, v: Q(status=params.token(v)[1]),
                    _SP + "Procedure-status"),
        _date_param("performed_start", "When performed (start); prefixes eq ne lt gt le ge."),
    )

    def to_fhir(self, p: Procedure) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Procedure", "id": str(p.pk),
                               "meta": _meta(p, PROCEDURE_PROFILES.get(p.kind, ""))}
        ext: list[dict[str, Any]] = []
        if p.intent_code or p.intent_display:
            ext.append(_ext_concept(MCODE + "mcode-procedure-intent",
                                    _concept(SNOMED if p.intent_code else "", p.intent_code, p.intent_display)))
        if p.modality:
            for part in p.modality.split("; "):
                names = [n for n in part.split(" / ") if n]
                subs = [{"url": url, "valueCodeableConcept": _text(n)}
                        for url, n in zip(("modality", "technique"), names, strict=False)]
                if subs:
                    ext.append({"url": MCODE + "mcode-radiotherapy-modality-and-technique", "extension": subs})
        if p.sessions is not None:
            ext.append({"url": MCODE + "mcode-radiotherapy-sessions", "valueUnsignedInt": p.sessions})
        if p.total_dose_cgy is not None:
            ext.append({"url": MCODE + "mcode-radiotherapy-dose-delivered-to-volume", "extension": [
                {"url": "totalDoseDelivered",
                 "valueQuantity": {"value": _number(p.total_dose_cgy), "unit": "cGy", "system": UCUM, "code": "cGy"}}
            ]})
        if ext:
            out["extension"] = ext
        out["status"] = p.status or "unknown"
        if p.termination_reason:
            out["statusReason"] = _text(p.termination_reason)
        out["code"] = _concept(p.code_system, p.code, p.display)
        out["subject"] = _patient(p)
        if p.performed_start and p.performed_end:
            out["performedPeriod"] = {"start": _instant(p.performed_start), "end": _instant(p.performed_end)}
        elif p.performed_start:
            out["performedDateTime"] = _instant(p.performed_start)
        elif p.performed_end:
            out["performedPeriod"] = {"end": _instant(p.performed_end)}
        if p.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{p.condition_id}"}]
        if p.body_site_code or p.body_site_display:
            site = _concept(SNOMED if p.body_site_code else "", p.body_site_code, p.body_site_display)
            if lat := _laterality("", p.laterality):
                site["extension"] = lat
            out["bodySite"] = [site]
        return out


# ============================= MedicationRequest / MedicationAdministration ===================================


def _medication_common(m: Medication, out: dict[str, Any]) -> None:
    if m.intent_code or m.intent_display:
        out["extension"] = [_ext_concept(MCODE + "mcode-procedure-intent",
                                         _concept(SNOMED if m.intent_code else "", m.intent_code, m.intent_display))]


_MED_PARAMS = (
    *_patient_params(),
    _code_param("Medication code: system|code (RxNorm) or code."),
    SearchParam("status", "token", "Status as recorded, e.g. active, completed, stopped.",
                lambda _n, v: Q(status=params.token(v)[1]), _SP + "medications-status"),
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
                    params.datetime_filter("start"), _SP + "MedicationRequest-authoredon"),
    )

    def to_fhir(self, m: Medication) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "MedicationRequest", "id": str(m.pk),
                               "meta": _meta(m, MEDICATION_REQUEST_PROFILE)}
        _medication_common(m, out)
        out["status"] = m.status or "unknown"
        if m.termination_reason:
            out["statusReason"] = _text(m.termination_reason)
        out["intent"] = m.request_intent or "order"
        out["medicationCodeableConcept"] = _concept(m.code_system, m.code, m.display)
        out["subject"] = _patient(m)
        if m.start:
            out["authoredOn"] = _instant(m.start)
        if m.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{m.condition_id}"}]
        dosage: dict[str, Any] = {}
        if m.dose_text:
            dosage["text"] = m.dose_text
        if m.start or m.end:
            bounds = {k: _instant(v) for k, v in (("start", m.start), ("end", m.end)) if v}
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
                    params.datetime_filter("start"), _SP + "MedicationAdministration-effective-time"),
    )

    def to_fhir(self, m: Medication) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "MedicationAdministration", "id": str(m.pk),
                               "meta": _meta(m, MEDICATION_ADMINISTRATION_PROFILE)}
        _medication_common(m, out)
        out["status"] = m.status or "unknown"
        if m.termination_reason:
            out["statusReason"] = [_text(m.termination_reason)]
        out["medicationCodeableConcept"] = _concept(m.code_system, m.code, m.display)
        out["subject"] = _patient(m)
        if m.start and m.end:
            out["effectivePeriod"] = {"start": _instant(m.start), "end": _instant(m.end)}
        elif m.start:
            out["effectiveDateTime"] = _instant(m.start)
        elif m.end:
            out["effectivePeriod"] = {"end": _instant(m.end)}
        else:
            out["_effectiveDateTime"] = {"extension": [{"url": EXT_DATA_ABSENT, "valueCode": "unknown"}]}
        if m.condition_id:
            out["reasonReference"] = [{"reference": f"Condition/{m.condition_id}"}]
        if m.dose_text:
            out["dosage"] = {"text": m.dose_text}
        return out


# --- the whole record of patients (for $everything and Bulk Data) -----------------------------------------------

RECORD_MAPPERS: tuple[CancerRecordMapper, ...] = (
    ConditionMapper(), ClinicalObservationMapper(), StageObservationMapper(), VariantObservationMapper(),
    PerformanceObservationMapper(), DiseaseStatusObservationMapper(), ProcedureMapper(), MedicationRequestMapper(),
    MedicationAdministrationMapper(),
)
RECORD_TYPES = tuple(dict.fromkeys(m.resource_type for m in RECORD_MAPPERS))
