"""FHIR R4 mappers for needs assessments: Questionnaire (an instrument version), QuestionnaireResponse (an
assessment) and Observation (a score, derived from the response).

Questionnaire: canonical ``url`` = <CODE_BASE>/Questionnaire/<instrument code>, ``version`` the instrument version;
``code`` the LOINC panel when one exists; each item keeps its LOINC code when one exists, integer items carry
minValue/maxValue, choice items list ``answerOption.valueCoding`` (the LOINC answer code when one exists, else
our per-instrument code system) with ``ordinalValue`` where the answer has a scored value; multiple-choice items are
``repeats``.  ``copyright`` carries the licence text.

QuestionnaireResponse: ``questionnaire`` = canonical|version; ``author`` the staff member (Practitioner) or the
patient; ``source`` who answered (Patient, or the caregiver's account as a logical RelatedPerson identifier).
A client may create one (the same validation, licence gate and scoring as the pages).

Observation: category ``survey``; ``code`` = LOINC when the score has one (e.g. 95614-4 safety total), else our
score code system; ``valueInteger`` or ``valueString``; ``interpretation`` POS/NEG (v3 ObservationInterpretation);
the reasons are in ``note``; ``derivedFrom`` the QuestionnaireResponse.

These three resource types are also served by symptom monitoring; the registry composes the mappers of one
type, and ours carry ids "assessment-<pk>".  A new QuestionnaireResponse is ours when its ``questionnaire`` names
one of our instruments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    CREATE,
    READ,
    SEARCH,
    ResourceMapper,
    SearchParam,
    reference_to,
    register,
)
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.fhir import QuestionnaireMapperBase, questionnaire_search_params
from oncoliaison.instruments.models import Instrument, InstrumentVersion, VersionStatus
from oncoliaison.instruments.selectors import questionnaire_url
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from . import rules, selectors, services
from .models import Assessment, AssessmentAnswer, AssessmentQuestionnaire, AssessmentScore, FilledBy

CS_SCORE = f"{codes.CODE_BASE}/CodeSystem/assessment-score"
CS_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
EXT_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
EXT_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"
EXT_ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
_STATUS = {VersionStatus.DRAFT: "draft", VersionStatus.ACTIVE: "active", VersionStatus.RETIRED: "retired"}
_INTERPRETATION = {"POS": "Positive", "NEG": "Negative"}
_SP = "http://hl7.org/fhir/SearchParameter/"
ID_PREFIX = "assessment"


def fid(pk: object) -> str:
    """The FHIR id of an assessment-domain resource."""
    return f"{ID_PREFIX}-{pk}"


def _pk_from(fhir_id: str) -> int | None:
    raw = fhir_id.removeprefix(f"{ID_PREFIX}-")
    return int(raw) if fhir_id.startswith(f"{ID_PREFIX}-") and raw.isdigit() and len(raw) < 19 else None


def _prefixed_reference(field: str, resource_type: str) -> Any:
    def apply(name: str, value: str) -> Q:
        parts = value.rstrip("/").split("/")
        if len(parts) > 1 and parts[-2] != resource_type:
            raise params.bad_value(name, value, f"Use a reference to {resource_type}.")
        key = _pk_from(parts[-1])
        return Q(**{field: key}) if key is not None else params.NOTHING

    return apply


def _score_code(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system in (None, CS_SCORE):
        q = Q(code=code)
        return q | Q(loinc_code=code) if system is None else q
    if system == codes.CS_LOINC:
        return Q(loinc_code=code)
    return params.NOTHING


def answer_system(instrument: Instrument, link_id: str) -> str:
    return f"{codes.CODE_BASE}/CodeSystem/{instrument.code}/{link_id}"


def _option_coding(instrument: Instrument, link_id: str, opt: dict[str, Any]) -> dict[str, str]:
    if opt.get("loinc"):
        return codes.coding(codes.CS_LOINC, opt["loinc"], opt["display"])
    return codes.coding(answer_system(instrument, link_id), opt["code"], opt["display"])


# ===================================== Questionnaire ========================================================


def questionnaire_to_fhir(version: InstrumentVersion) -> dict[str, Any]:
    instrument = version.instrument
    defn = version.definition
    items = []
    for item in defn["items"]:
        entry: dict[str, Any] = {"linkId": item["link_id"], "text": item["text"], "required": False}
        if item.get("loinc"):
            entry["code"] = [codes.coding(codes.CS_LOINC, item["loinc"])]
        if item.get("category"):
            entry["prefix"] = item["category"]
        if item["type"] == "integer":
            entry["type"] = "integer"
            entry["extension"] = [{"url": EXT_MIN, "valueInteger": item["min"]},
                                  {"url": EXT_MAX, "valueInteger": item["max"]}]
        else:
            entry["type"] = "choice"
            entry["repeats"] = item["type"] == "multi-choice"
            options = []
            for opt in item["options"]:
                option: dict[str, Any] = {"valueCoding": _option_coding(instrument, item["link_id"], opt)}
                if "value" in opt:
                    option["extension"] = [{"url": EXT_ORDINAL, "valueDecimal": opt["value"]}]
                options.append(option)
            entry["answerOption"] = options
        items.append(entry)
    out: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fid(version.number),
        "meta": codes.meta(1, version.created_at),
        "url": questionnaire_url(instrument),
        "version": version.version,
        "name": "".join(part.capitalize() for part in instrument.code.split("-")),
        "title": instrument.title,
        "status": _STATUS[VersionStatus(version.status)],
        "subjectType": ["Patient"],
        "publisher": instrument.publisher,
        "description": instrument.citation,
        "copyright": instrument.licence,
        "item": items,
    }
    if instrument.loinc_code:
        out["code"] = [codes.coding(codes.CS_LOINC, instrument.loinc_code, instrument.title)]
    return out


@register
class QuestionnaireMapper(QuestionnaireMapperBase):
    model = AssessmentQuestionnaire
    purpose = selectors.PURPOSE
    id_prefix = ID_PREFIX
    interactions = (READ, SEARCH)
    documentation = ("Needs-assessment instruments (NCCN Distress Thermometer, CMS AHC HRSN), one Questionnaire per "
                     "published version, licence in copyright.")
    search_params = questionnaire_search_params("nccn-dt")

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return super().queryset_for(actor).select_related("instrument")

    versioned = False  # never changed in place
    updated_field = "created_at"

    def to_fhir(self, obj: InstrumentVersion) -> dict[str, Any]:
        return questionnaire_to_fhir(obj)


# ===================================== QuestionnaireResponse ================================================


def questionnaire_response_to_fhir(a: Assessment) -> dict[str, Any]:
    version = a.instrument_version
    instrument = version.instrument
    items = rules.items_of(version.definition)
    by_link: dict[str, list[AssessmentAnswer]] = {}
    for ans in a.answers.all():
        by_link.setdefault(ans.link_id, []).append(ans)
    out_items = []
    for link_id, answers in by_link.items():
        item = items.get(link_id)
        if item is None:
            continue
        values: list[dict[str, Any]] = []
        for ans in answers:
            if item["type"] == "integer":
                values.append({"valueInteger": ans.value_integer})
            else:
                values.append({"valueCoding": _option_coding(instrument, link_id, dict(rules.option_of(item, ans.value_code)))})
        out_items.append({"linkId": link_id, "text": item["text"], "answer": values})
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": fid(a.pk),
        "meta": codes.meta(a.version, a.updated_at, synthetic=a.patient.synthetic),
        "questionnaire": f"{questionnaire_url(instrument)}|{version.version}",
        "status": a.status,
        "subject": codes.ref("Patient", a.patient_id),
        "authored": codes.instant(a.authored_at),
        "item": out_items,
    }
    if a.filled_by == FilledBy.PATIENT:
        out["author"] = out["source"] = codes.ref("Patient", a.patient_id)
    elif a.filled_by == FilledBy.PROXY and a.author_id:
        out["source"] = {"identifier": {"system": codes.SID_USER, "value": str(a.author_id)}, "type": "RelatedPerson"}
    elif a.author_id:
        out["author"] = codes.ref("Practitioner", a.author_id)
    return out


@dataclass
class ResponseInput:
    patient: Patient
    version: InstrumentVersion
    answers: dict[str, list[str]]
    authored_at: dt.datetime | None


def _version_for(canonical: str) -> InstrumentVersion:
    if instruments.code_of_canonical(canonical) is None:
        raise ValidationFailed("questionnaire must be the canonical URL of an OncoLiaison instrument.",
                               field_errors={"questionnaire": ["Unknown Questionnaire."]})
    version = instruments.version_for_canonical(canonical, purpose=selectors.PURPOSE)
    if version is None:
        raise ValidationFailed("questionnaire does not name a known instrument version.",
                               field_errors={"questionnaire": ["Unknown Questionnaire version."]})
    return version


def questionnaire_response_from_fhir(resource: dict[str, Any], *, actor: Actor) -> ResponseInput:
    """Translate a (structurally valid) QuestionnaireResponse into the service input.

    Answers may use the LOINC answer code or the instrument's own code; unknown items and codes are refused by
    the same rules as the pages.
    """
    version = _version_for(str(resource.get("questionnaire") or ""))
    if resource.get("status") not in {"completed", "amended"}:
        raise ValidationFailed("Only completed QuestionnaireResponses are accepted.",
                               field_errors={"status": ["Use completed."]})
    patient_id = reference_to(resource.get("subject"), "Patient", "subject")
    if patient_id is None:
        raise ValidationFailed("subject must reference the Patient.", field_errors={"subject": ["Required."]})
    try:
        patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="fhir", audit_read=False)
    except NotFound:
        raise ValidationFailed("subject does not reference a Patient known to you.",
                               field_errors={"subject": ["Unknown Patient."]}) from None
    items = rules.items_of(version.definition)
    answers: dict[str, list[str]] = {}
    for n, entry in enumerate(resource.get("item") or []):
        link_id = str(entry.get("linkId") or "")
        item = items.get(link_id)
        if item is None:
            raise ValidationFailed(f"item[{n}].linkId '{link_id}' is not part of the questionnaire.",
                                   field_errors={f"item[{n}].linkId": ["Unknown item."]})
        for answer in entry.get("answer") or []:
            if "valueInteger" in answer:
                answers.setdefault(link_id, []).append(str(answer["valueInteger"]))
            elif "valueCoding" in answer:
                code = str(answer["valueCoding"].get("code") or "")
                by_loinc = {o.get("loinc"): o["code"] for o in item.get("options", []) if o.get("loinc")}
                answers.setdefault(link_id, []).append(by_loinc.get(code, code))
            else:
                raise ValidationFailed(f"item[{n}].answer must be valueInteger or valueCoding.",
                                       field_errors={f"item[{n}].answer": ["Unsupported answer type."]})
    authored = resource.get("authored")
    when = dt.datetime.fromisoformat(authored) if authored else None
    if when is not None and when.tzinfo is None:
        raise ValidationFailed("authored needs a time zone.", field_errors={"authored": ["Add a time zone."]})
    return ResponseInput(patient, version, answers, when)


def _ours(resource: dict[str, Any]) -> bool:
    return instruments.is_our_questionnaire(str(resource.get("questionnaire") or ""), purpose=selectors.PURPOSE)


@register
class QuestionnaireResponseMapper(ResourceMapper):
    resource_type = "QuestionnaireResponse"
    model = Assessment
    id_prefix = ID_PREFIX
    interactions = (READ, SEARCH, CREATE)
    patient_linked = True
    audit_category = selectors.CATEGORY
    documentation = "Needs assessments (answers) of patients the caller may see; create submits one for scoring."
    search_params = (
        SearchParam("patient", "reference", "The patient assessed.", params.reference_filter("patient_id", "Patient"),
                    _SP + "QuestionnaireResponse-patient"),
        SearchParam("subject", "reference", "The patient assessed.", params.reference_filter("patient_id", "Patient"),
                    _SP + "QuestionnaireResponse-subject"),
        SearchParam("authored", "date", "When the answers were given.", params.datetime_filter("authored_at"),
                    _SP + "QuestionnaireResponse-authored"),
    )

    def claims(self, resource: dict[str, Any]) -> bool:
        return _ours(resource)

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[Assessment]:
        return selectors.assessment_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient", "instrument_version", "instrument_version__instrument").prefetch_related(
            Prefetch("answers", queryset=AssessmentAnswer.objects.order_by("position", "id")))

    def to_fhir(self, obj: Assessment) -> dict[str, Any]:
        return questionnaire_response_to_fhir(obj)

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> ResponseInput:
        if current is not None:
            raise Forbidden("Assessments cannot be replaced; record a new one.")
        return questionnaire_response_from_fhir(resource, actor=actor)

    def create(self, *, actor: Actor, data: ResponseInput) -> Assessment:
        return services.assessment_submit(actor=actor, patient=data.patient, version=data.version,
                                          answers=data.answers, authored_at=data.authored_at, channel="fhir")


# ===================================== Observation (scores) =================================================


def score_to_fhir(s: AssessmentScore) -> dict[str, Any]:
    coding = [codes.coding(CS_SCORE, s.code, s.display)]
    if s.loinc_code:
        coding.insert(0, codes.coding(codes.CS_LOINC, s.loinc_code, s.display))
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fid(s.pk),
        "meta": codes.meta(1, s.effective_at, synthetic=s.patient.synthetic),
        "status": "final",
        "category": [{"coding": [codes.coding(CS_OBS_CATEGORY, "survey", "Survey")]}],
        "code": {"coding": coding, "text": s.display},
        "subject": codes.ref("Patient", s.patient_id),
        "effectiveDateTime": codes.instant(s.effective_at),
        "derivedFrom": [codes.ref("QuestionnaireResponse", fid(s.assessment_id))],
    }
    if s.value_text:
        out["valueString"] = s.value_text
    elif s.value_integer is not None:
        out["valueInteger"] = s.value_integer
    else:
        out["dataAbsentReason"] = {"coding": [codes.coding(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-performed", "Not Performed")],
            "text": "No score: answers missing"}
    if s.interpretation:
        out["interpretation"] = [{"coding": [codes.coding(CS_INTERPRETATION, s.interpretation,
                                                          _INTERPRETATION[s.interpretation])]}]
    if s.reasons:
        out["note"] = [{"text": str(r)} for r in s.reasons]
    return out


@register
class AssessmentObservationMapper(ResourceMapper):
    resource_type = "Observation"
    model = AssessmentScore
    id_prefix = ID_PREFIX
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = selectors.CATEGORY
    documentation = ("Needs-assessment scores and screening results (distress, social-needs domains), with their "
                     "reasons in note; derivedFrom the QuestionnaireResponse.")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "Observation-subject"),
        SearchParam("code", "token", f"LOINC code, or a score code in {CS_SCORE}, e.g. distress-thermometer.",
                    _score_code, _SP + "clinical-code"),
        SearchParam("derived-from", "reference", "The QuestionnaireResponse.",
                    _prefixed_reference("assessment_id", "QuestionnaireResponse"), _SP + "Observation-derived-from"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[AssessmentScore]:
        if actor.is_system and not actor.allows("Observation", "r"):
            return AssessmentScore.objects.none()
        return AssessmentScore.objects.filter(assessment__in=selectors.assessment_queryset_for(actor).values("pk"))

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient")

    versioned = False  # never changed in place
    updated_field = "effective_at"

    def to_fhir(self, obj: AssessmentScore) -> dict[str, Any]:
        return score_to_fhir(obj)
