"""What every cancer-record mapper shares: profiles and code systems, element builders, search helpers and
the shared mapper (``CancerRecordMapper``)."""


from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, ResourceMapper, SearchParam
from oncoliaison.patients.selectors import patient_queryset_for, require_patient_access_role

from .. import models, rules

AUDIT_CATEGORY = "oncology"
SP = "http://hl7.org/fhir/SearchParameter/"
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
    models.ConditionCategory.PRIMARY: MCODE + "mcode-primary-cancer-condition",
    models.ConditionCategory.SECONDARY: MCODE + "mcode-secondary-cancer-condition",
    models.ConditionCategory.COMORBIDITY: US_CORE + "us-core-condition-problems-health-concerns",
}
STAGE_PROFILES: dict[str, str] = {
    models.StageKind.TNM_T: MCODE + "mcode-tnm-primary-tumor-category",
    models.StageKind.TNM_N: MCODE + "mcode-tnm-regional-nodes-category",
    models.StageKind.TNM_M: MCODE + "mcode-tnm-distant-metastases-category",
    models.StageKind.STAGE_GROUP: MCODE + "mcode-tnm-stage-group",
    models.StageKind.OTHER: MCODE + "mcode-cancer-stage",
}
OBSERVATION_PROFILES: dict[str, str] = {
    models.ObservationKind.TUMOR_MARKER: MCODE + "mcode-tumor-marker-test",
    models.ObservationKind.COMORBIDITY: MCODE + "mcode-comorbidities",
    models.ObservationKind.LABORATORY: US_CORE + "us-core-observation-lab",
    models.ObservationKind.VITAL_SIGN: "http://hl7.org/fhir/StructureDefinition/vitalsigns",
}
# mCODE STU4 tumor profiles by code (other tumor findings: the Tumor Morphology profile).
TUMOR_PROFILE_BY_CODE = {"21889-1": "mcode-tumor-size", "33728-7": "mcode-tumor-size", "33729-5": "mcode-tumor-size",
                         "31206-6": "mcode-histologic-behavior-and-type", "C18000": "mcode-histologic-grade",
                         "77753-2": "mcode-tumor-morphology"}
GENOMIC_PROFILE_BY_LOINC = {"94076-7": GENOMICS + "tmb", "81695-9": GENOMICS + "msi"}
VARIANT_PROFILE = GENOMICS + "variant"
PERFORMANCE: dict[str, tuple[str, str, str, str]] = {
    models.PerformanceInstrument.ECOG: (models.LOINC, rules.ECOG_LOINC, "ECOG Performance Status score",
                                        MCODE + "mcode-ecog-performance-status"),
    models.PerformanceInstrument.KARNOFSKY: (models.LOINC, rules.KARNOFSKY_LOINC, "Karnofsky Performance Status score",
                                             MCODE + "mcode-karnofsky-performance-status"),
    models.PerformanceInstrument.LANSKY: ("http://ncimeta.nci.nih.gov", rules.LANSKY_NCIT, "Lansky Performance Status",
                                          MCODE + "mcode-lansky-play-performance-status"),
}
DISEASE_STATUS_PROFILE = MCODE + "mcode-cancer-disease-status"
PROCEDURE_PROFILES: dict[str, str] = {
    models.ProcedureKind.SURGICAL: MCODE + "mcode-cancer-related-surgical-procedure",
    models.ProcedureKind.RADIOTHERAPY: MCODE + "mcode-radiotherapy-course-summary",
    models.ProcedureKind.OTHER: US_CORE + "us-core-procedure",
}
MEDICATION_REQUEST_PROFILE = MCODE + "mcode-cancer-related-medication-request"
MEDICATION_ADMINISTRATION_PROFILE = MCODE + "mcode-cancer-related-medication-administration"
CANCER_PATIENT_PROFILE = MCODE + "mcode-cancer-patient"

# Observation.category (observation-category codes) of each ClinicalObservation kind.
OBSERVATION_CATEGORY: dict[str, str] = {
    models.ObservationKind.TUMOR_MARKER: "laboratory",
    models.ObservationKind.LABORATORY: "laboratory",
    models.ObservationKind.GENOMIC: "laboratory",
    models.ObservationKind.VITAL_SIGN: "vital-signs",
    models.ObservationKind.SOCIAL: "social-history",
    models.ObservationKind.TUMOR: "laboratory",
    models.ObservationKind.COMORBIDITY: "exam",
}


# --- element builders ---------------------------------------------------------------------------------------


def concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if code:
        out["coding"] = [codes.coding(system, code, display) if system else _bare(code, display)]
    if text or (display and not code):
        out["text"] = text or display
    return out


def _bare(code: str, display: str) -> dict[str, str]:
    return {"code": code, "display": display} if display else {"code": code}


def text(value: str) -> dict[str, str]:
    return {"text": value}


def json_number(value: Decimal) -> int | float:
    """A JSON number from a stored decimal (integral values as integers)."""
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


_instants: dict[dt.datetime, str] = {}


def instant(value: dt.datetime) -> str:
    """codes.instant, remembered: an export renders the same few timestamps many times."""
    text = _instants.get(value)
    if text is None:
        if len(_instants) > 100_000:
            _instants.clear()
        text = _instants[value] = codes.instant(value)
    return text


def meta(obj: Any, profile: str) -> dict[str, Any]:
    out: dict[str, Any] = {"versionId": "1", "lastUpdated": instant(obj.updated_at)}
    if profile:
        out["profile"] = [profile]
    return out


def patient(obj: Any) -> dict[str, str]:
    return {"reference": f"Patient/{obj.patient_id}"}


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: dt.datetime | None) -> str | None:
    return instant(value) if value else None


def ext_concept(url: str, concept: dict[str, Any]) -> dict[str, Any]:
    return {"url": url, "valueCodeableConcept": concept}


def laterality(code: str, display: str) -> list[dict[str, Any]]:
    if not (code or display):
        return []
    return [ext_concept(MCODE + "mcode-laterality-qualifier", concept(models.SNOMED if code else "", code, display))]


def interpretation(code: str, display: str) -> list[dict[str, Any]]:
    if not (code or display):
        return []
    system = CS_INTERPRETATION if code in _STANDARD_INTERPRETATIONS else ""
    return [concept(system, code, display)]


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


def fixed_code(system: str, code: str) -> Callable[[str, str], Q]:
    """code for rows that all carry one code (every disease status is LOINC 97509-4)."""

    def apply(name: str, value: str) -> Q:
        sys, c = params.token(value)
        return Q() if sys in (None, system) and c in ("", code) and (c or sys) else params.NOTHING

    return apply


def category(allowed: dict[str, list[str]], field: str) -> Callable[[str, str], Q]:
    """category: an observation-category code -> the stored kinds it covers."""

    def apply(name: str, value: str) -> Q:
        system, code = params.token(value)
        if system not in (None, CS_OBSERVATION_CATEGORY) or code not in allowed:
            return params.NOTHING
        kinds = allowed[code]
        return Q(**{f"{field}__in": kinds}) if kinds else Q()

    return apply


def patient_params() -> tuple[SearchParam, ...]:
    return (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    SP + "Observation-subject"),
        SearchParam("_lastUpdated", "date", "When the record last changed here; prefixes eq ne lt gt le ge.",
                    params.datetime_filter("updated_at"), SP + "Resource-lastUpdated"),
    )


def code_param(doc: str, fn: Callable[[str, str], Q] | None = None) -> SearchParam:
    return SearchParam("code", "token", doc, fn or _token("code_system", "code"), SP + "clinical-code")


def date_param(field: str, doc: str, *, dates: bool = False) -> SearchParam:
    fn = params.date_filter(field) if dates else params.datetime_filter(field)
    return SearchParam("date", "date", doc, fn, SP + "clinical-date")


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
