"""FHIR R4 mappers of symptom monitoring (registered with oncoliaison.fhir.registry).

- ``Questionnaire`` (read, search): an instrument version, canonical ``<CODE_BASE>/Questionnaire/<code>``
  with ``version``; scale items are ``integer`` (min/max value extensions), PRO-CTCAE attributes ``choice``
  with answer codes "0".."4" in ``<CODE_BASE>/CodeSystem/proctcae-response``; ``copyright`` carries the licence.
- ``QuestionnaireResponse`` (create, read, search): a symptom report.  Create goes through
  ``services.report_submit`` (source fhir), so scores, alerts and audit are the same as from the portal.
  ``identifier`` (system + value) makes the create idempotent.
- ``Observation`` (read, search): a derived score (ESAS-r item or sum, PRO-CTCAE composite grade or
  presence), category ``survey``, ``derivedFrom`` the QuestionnaireResponse.
- ``Flag`` (read, search): a symptom alert; status active until resolved; the response deadline and the
  workflow status in extensions.

``questionnaire_responses_ingest`` takes many QuestionnaireResponse resources (a batch Bundle's entries)
and stores them with set-based queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as QRModel
from pydantic import ValidationError

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.ids import parse_id
from oncoliaison.fhir import codes, params, registry, validation
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
from oncoliaison.instruments.models import InstrumentItem, InstrumentVersion
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

from . import selectors, services
from .models import Alert, AlertStatus, SymptomQuestionnaire, SymptomReport, SymptomScore

CS_RESPONSE = f"{codes.CODE_BASE}/CodeSystem/proctcae-response"
CS_SCORE = f"{codes.CODE_BASE}/CodeSystem/symptom-score"
CS_ALERT = f"{codes.CODE_BASE}/CodeSystem/symptom-alert"
EXT_DEADLINE = f"{codes.CODE_BASE}/StructureDefinition/response-deadline"
EXT_WORKFLOW = f"{codes.CODE_BASE}/StructureDefinition/alert-workflow-status"
EXT_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
EXT_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"
CS_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_SP = "http://hl7.org/fhir/SearchParameter/"
_BAND_INTERPRETATION = {"severe": ("HH", "Critical high"), "moderate": ("H", "High"), "mild": ("N", "Normal"),
                        "none": ("N", "Normal")}


def canonical(version: InstrumentVersion) -> str:
    return instruments.questionnaire_url(version.instrument)


# Questionnaire, QuestionnaireResponse and Observation are also served by needs assessments; the registry
# composes the mappers of one type, and ours carry ids "symptom-<pk>".
ID_PREFIX = "symptom"


def fid(pk: object) -> str:
    return f"{ID_PREFIX}-{pk}"


def pk_from(fhir_id: str) -> int | None:
    if not fhir_id.startswith(f"{ID_PREFIX}-"):
        return None
    raw = fhir_id[len(ID_PREFIX) + 1:]
    return parse_id(raw)


def _prefixed_reference(field: str, resource_type: str) -> Any:
    """Search on a reference to one of our prefixed resources: ``Type/symptom-12`` or ``symptom-12``."""

    def apply(name: str, value: str) -> Q:
        parts = value.rstrip("/").split("/")
        key = pk_from(parts[-1])
        if len(parts) > 1 and parts[-2] != resource_type:
            raise params.bad_value(name, value, f"Use a reference to {resource_type}.")
        return Q(**{field: key}) if key is not None else Q(pk__in=[])

    return apply


class _SymptomIds:
    """Prefixed ids (also understood by registries without composition)."""

    id_prefix = ID_PREFIX

    def fhir_id(self, obj: Any) -> str:
        return fid(obj.pk)

    def pk_of(self, fhir_id: str) -> int | None:
        return pk_from(fhir_id)

    def read(self, actor: Actor, pk: str) -> Any:
        key = pk_from(pk)
        if key is None:
            raise NotFound()
        obj = self.with_related(self.queryset_for(actor)).filter(pk=key).first()  # type: ignore[attr-defined]  # a mixin: the mapper it joins has these
        if obj is None:
            raise NotFound()
        return obj


def _ours(resource: dict[str, Any]) -> bool:
    """Does a QuestionnaireResponse answer one of the symptom instruments?"""
    return instruments.is_our_questionnaire(str(resource.get("questionnaire") or ""), purpose=services.PURPOSE)


def _staff_or_system(actor: Actor, what: str) -> None:
    if actor.kind not in {"staff", "system"} or not actor.clinical_organization_ids:
        raise Forbidden(f"Your role does not give access to {what}.")


# --- Questionnaire ---------------------------------------------------------------------------------------


def _item_fhir(item: InstrumentItem) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": item.link_id, "text": item.text}
    if item.kind == "scale":
        out["type"] = "integer"
        out["extension"] = [{"url": EXT_MIN, "valueInteger": item.min_value},
                            {"url": EXT_MAX, "valueInteger": item.max_value}]
    elif item.kind in ("ordinal", "presence"):
        out["type"] = "choice"
        out["answerOption"] = [{"valueCoding": codes.coding(CS_RESPONSE, str(n), label)}
                               for n, label in enumerate(item.options)]
        out["answerOption"] += [{"valueCoding": codes.coding(CS_RESPONSE, "missing", label)}
                                for label in item.missing_options]
    elif item.kind == "text":
        out["type"] = "string"
    else:
        out["type"] = "text"
    return out


@register
class SymptomQuestionnaireMapper(QuestionnaireMapperBase):
    model = SymptomQuestionnaire
    purpose = services.PURPOSE
    id_prefix = ID_PREFIX
    interactions = (READ, SEARCH)
    documentation = ("Symptom instruments (ESAS-r, PRO-CTCAE) as loaded, with their licence in copyright. "
                     "Canonical URL " + QUESTIONNAIRE_BASE + "/<code>.")
    search_params = questionnaire_search_params("esas-r")

    def check_access(self, actor: Actor, interaction: str) -> None:
        if actor.kind not in {"staff", "system"}:
            raise Forbidden("Questionnaires are read by staff and connected systems.")

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("instrument").prefetch_related("items")

    def version_of(self, obj: Any) -> int:
        return 1  # a loaded instrument version never changes

    def updated_of(self, obj: Any) -> dt.datetime | None:
        return None

    def to_fhir(self, v: InstrumentVersion) -> dict[str, Any]:
        inst = v.instrument
        return {
            "resourceType": "Questionnaire",
            "id": self.fhir_id(v),
            "url": canonical(v),
            "version": v.version,
            "name": inst.code.replace("-", "_").upper(),
            "title": inst.title,
            "status": "active" if v.current else "retired",
            "subjectType": ["Patient"],
            "publisher": inst.publisher,
            "description": f"{inst.citation} Recall: {v.recall}".strip(),
            "copyright": inst.licence,
            "item": [_item_fhir(i) for i in sorted(v.items.all(), key=lambda i: i.order)],
        }


# --- QuestionnaireResponse -----------------------------------------------------------------------------------


@dataclass
class ResponseInput:
    patient_id: int
    version: InstrumentVersion
    answers: dict[str, Any]
    authored: dt.datetime | None
    source_system: str
    source_id: str


def _version_for(reference: str) -> InstrumentVersion:
    """The instrument version a ``questionnaire`` canonical (``url|version``) names."""
    found = instruments.version_for_canonical(reference, purpose=services.PURPOSE)
    if found is None:
        raise ValidationFailed(f"questionnaire must be one of this server's Questionnaires ({QUESTIONNAIRE_BASE}/…).",
                               field_errors={"questionnaire": ["Unknown questionnaire."]})
    return found


def _answer_value(answer: dict[str, Any], link_id: str) -> Any:
    if "valueInteger" in answer:
        return answer["valueInteger"]
    if "valueCoding" in answer:
        code = str((answer["valueCoding"] or {}).get("code") or "")
        if code == "missing":
            return None
        return int(code) if code.isdigit() else code
    if "valueBoolean" in answer:
        return 1 if answer["valueBoolean"] else 0
    if "valueString" in answer:
        return answer["valueString"]
    raise ValidationFailed(f"item {link_id}: use valueInteger, valueCoding, valueBoolean or valueString.",
                           field_errors={link_id: ["Unsupported answer type."]})


def response_input(resource: dict[str, Any]) -> ResponseInput:
    """Translate one validated QuestionnaireResponse into the service input."""
    if resource.get("status") not in ("completed", "amended"):
        raise ValidationFailed("Only completed QuestionnaireResponses are accepted.",
                               field_errors={"status": ["Use completed."]})
    version = _version_for(str(resource.get("questionnaire") or ""))
    patient_id = reference_to(resource.get("subject"), "Patient", "subject")
    if patient_id is None:
        raise ValidationFailed("subject must reference the Patient.", field_errors={"subject": ["Required."]})
    answers: dict[str, Any] = {}
    stack = list(resource.get("item") or [])
    while stack:
        it = stack.pop(0)
        link_id = str(it.get("linkId") or "")
        stack.extend(it.get("item") or [])
        for answer in it.get("answer") or []:
            answers[link_id] = _answer_value(answer, link_id)
    authored_raw = resource.get("authored")
    authored = dt.datetime.fromisoformat(str(authored_raw).replace("Z", "+00:00")) if authored_raw else None
    if authored is not None and authored.tzinfo is None:
        raise ValidationFailed("authored needs a time zone.", field_errors={"authored": ["Add a time zone."]})
    identifier = resource.get("identifier") or {}
    return ResponseInput(patient_id, version, answers, authored, str(identifier.get("system") or ""),
                         str(identifier.get("value") or ""))


def _items_of(version_id: int) -> dict[str, InstrumentItem]:
    return instruments.items_by_link_id(version_id)


def _source_system(actor: Actor, data: ResponseInput) -> str:
    return data.source_system or f"{codes.SID_API_CLIENT}/{actor.client_id or actor.username}"


@register
class SymptomResponseMapper(_SymptomIds, ResourceMapper):
    resource_type = "QuestionnaireResponse"
    model = SymptomReport
    interactions = (READ, SEARCH, CREATE)
    patient_linked = True
    audit_category = "symptoms"
    documentation = ("Symptom reports. Create answers a Questionnaire of this server (questionnaire = its "
                     "canonical URL); the server scores it, runs the program's alert rules and returns the "
                     "stored response. identifier (system + value) makes create idempotent.")
    search_params = (
        SearchParam("patient", "reference", "The patient who reported.",
                    params.reference_filter("patient_id", "Patient"), _SP + "QuestionnaireResponse-patient"),
        SearchParam("subject", "reference", "The patient who reported.",
                    params.reference_filter("patient_id", "Patient"), _SP + "QuestionnaireResponse-subject"),
        SearchParam("authored", "date", "When the answers were given.", params.datetime_filter("authored_at"),
                    _SP + "QuestionnaireResponse-authored"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "symptom reports")

    def queryset_for(self, actor: Actor) -> QuerySet[SymptomReport]:
        return selectors.report_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("version__instrument").prefetch_related("answers")

    def version_of(self, obj: Any) -> int:
        return 1

    def updated_of(self, obj: Any) -> dt.datetime | None:
        updated: dt.datetime = obj.received_at
        return updated

    def to_fhir(self, r: SymptomReport) -> dict[str, Any]:
        items = _items_of(r.version_id)
        out_items = []
        for a in sorted(r.answers.all(), key=lambda a: items[a.link_id].order if a.link_id in items else 0):
            item = items.get(a.link_id)
            if a.value is None and not a.text:
                continue
            if item is not None and item.kind in ("ordinal", "presence") and a.value is not None:
                label = item.options[a.value] if a.value < len(item.options) else str(a.value)
                value: dict[str, Any] = {"valueCoding": codes.coding(CS_RESPONSE, str(a.value), label)}
            elif a.value is not None:
                value = {"valueInteger": a.value}
            else:
                value = {"valueString": a.text}
            out_items.append({"linkId": a.link_id, "text": item.text if item else a.link_id, "answer": [value]})
        body: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "id": fid(r.pk),
            "meta": codes.meta(1, r.received_at),
            "questionnaire": f"{canonical(r.version)}|{r.version.version}",
            "status": "completed",
            "subject": codes.ref("Patient", r.patient_id),
            "authored": codes.instant(r.authored_at),
            "item": out_items,
        }
        if r.source_id:
            body["identifier"] = {"system": r.source_system, "value": r.source_id}
        if r.reporter_kind == "patient":
            body["source"] = codes.ref("Patient", r.patient_id)
        return body

    def claims(self, resource: dict[str, Any]) -> bool:
        return _ours(resource)

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> ResponseInput:
        return response_input(resource)

    def create(self, *, actor: Actor, data: ResponseInput) -> SymptomReport:
        patient = patient_queryset_for(actor).select_related("organization").filter(pk=data.patient_id).first()
        if patient is None:
            raise NotFound()
        result = services.report_submit(
            actor=actor, patient=patient, instrument=data.version, answers=data.answers, source="fhir",
            authored_at=data.authored, source_system=_source_system(actor, data) if data.source_id else "",
            source_id=data.source_id, channel="fhir",
        )
        return result.report


def questionnaire_responses_ingest(actor: Actor, resources: list[dict[str, Any]]) -> list[SymptomReport | DomainError]:
    """Store many QuestionnaireResponses (the entries of a batch Bundle) in one transaction; each entry
    answers its stored report or the error that refused it."""
    if actor.is_system and not actor.allows("QuestionnaireResponse", "c"):
        raise Forbidden("The access token's scopes do not allow creating QuestionnaireResponse resources.")
    outcomes: list[SymptomReport | DomainError | None] = [None] * len(resources)
    inputs: list[tuple[int, ResponseInput]] = []
    with validation.batch():  # the batch's repeated elements are validated once
        for n, resource in enumerate(resources):
            try:
                if resource.get("resourceType") != "QuestionnaireResponse":
                    raise ValidationFailed("Each entry must be a QuestionnaireResponse.")
                resource = {k: v for k, v in resource.items() if k != "id"}
                validation.validate(QRModel, resource)
                inputs.append((n, response_input(resource)))
            except ValidationError as exc:
                outcomes[n] = ValidationFailed(f"Not a valid QuestionnaireResponse: {exc.errors()[0]['msg']}")
            except DomainError as exc:
                outcomes[n] = exc
    # The submission needs the patient's id and organisation only.
    patients = {p.pk: p for p in Patient.objects.filter(pk__in={d.patient_id for _, d in inputs})
                .only("pk", "organization_id")}
    subs, order = [], []
    for n, d in inputs:
        patient = patients.get(d.patient_id)
        if patient is None:
            outcomes[n] = NotFound()
            continue
        subs.append(services.Submission(patient, d.version, d.answers, "fhir", d.authored,
                                        _source_system(actor, d) if d.source_id else "", d.source_id))
        order.append(n)
    for n, result in zip(order, services.reports_submit_many(actor=actor, submissions=subs, channel="fhir"),
                         strict=True):
        outcomes[n] = result if isinstance(result, DomainError) else result.report
    return [o if o is not None else ValidationFailed("Not processed.") for o in outcomes]


def is_symptom_report_batch(bundle: dict[str, Any]) -> bool:
    """A batch made only of QuestionnaireResponses: a connected app's symptom reports."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    return (
        bundle.get("type") == "batch"
        and bool(entries)
        and all((e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse" for e in entries)
    )


@registry.register_bundle_handler(claims=is_symptom_report_batch)
def symptom_report_batch(actor: Actor, bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``POST [base]`` with a batch of symptom reports: one entry answered per report, scores and alerts
    included (every other transaction or batch is clinical data for the cancer record's import)."""
    return 200, batch_response(actor, bundle)


def batch_response(actor: Actor, bundle: dict[str, Any]) -> dict[str, Any]:
    """A batch-response Bundle for a batch Bundle whose entries are QuestionnaireResponse creates (for the
    FHIR app's ``POST [base]``): one entry per request entry, in order, with its status and location or an
    OperationOutcome."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    outcomes = questionnaire_responses_ingest(actor, [e.get("resource") or {} for e in entries])
    out: list[dict[str, Any]] = []
    for outcome in outcomes:
        if isinstance(outcome, SymptomReport):
            out.append({"response": {"status": "201 Created", "location": f"QuestionnaireResponse/{fid(outcome.pk)}",
                                     "lastModified": codes.instant(outcome.received_at)}})
        else:
            code = {404: "not-found", 403: "forbidden", 409: "conflict"}.get(outcome.status, "processing")
            out.append({"response": {"status": str(outcome.status), "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": code, "diagnostics": outcome.message}]}}})
    return {"resourceType": "Bundle", "type": "batch-response", "entry": out}


# --- Observation (derived scores) ---------------------------------------------------------------------------


@register
class SymptomScoreObservationMapper(_SymptomIds, ResourceMapper):
    resource_type = "Observation"
    model = SymptomScore
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = (f"Scores derived from symptom reports (code system {CS_SCORE}): ESAS-r item scores and "
                     "sums, PRO-CTCAE composite grades (0-3) and presence; derivedFrom the QuestionnaireResponse.")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "Observation-subject"),
        SearchParam("code", "token", f"Score code in {CS_SCORE}, e.g. esas-tsds, proctcae-9.",
                    lambda _n, v: Q(code=params.token(v)[1]) if params.token(v)[0] in (None, CS_SCORE)
                    else Q(pk__in=[]), _SP + "clinical-code"),
        SearchParam("derived-from", "reference", "The QuestionnaireResponse.",
                    _prefixed_reference("report_id", "QuestionnaireResponse"), _SP + "Observation-derived-from"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "symptom scores")

    def queryset_for(self, actor: Actor) -> QuerySet[SymptomScore]:
        return selectors.score_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("report")

    def version_of(self, obj: Any) -> int:
        return 1

    def updated_of(self, obj: Any) -> dt.datetime | None:
        updated: dt.datetime = obj.report.received_at
        return updated

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
        if s.band in _BAND_INTERPRETATION:
            code, display = _BAND_INTERPRETATION[s.band]
            body["interpretation"] = [{"coding": [codes.coding(CS_INTERPRETATION, code, display)], "text": s.band}]
        return body


# --- Flag (alerts) ------------------------------------------------------------------------------------------


@register
class SymptomAlertFlagMapper(ResourceMapper):
    resource_type = "Flag"
    model = Alert
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = (f"Symptom alerts. code in {CS_ALERT} (severity); status active until resolved; extensions "
                     "carry the response deadline and the workflow status (open, acknowledged, escalated, resolved).")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "Flag-subject"),
        SearchParam("status", "token", "active | inactive",
                    lambda n, v: Q(status=AlertStatus.RESOLVED) if params.token(v)[1] == "inactive"
                    else Q(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED])
                    if params.token(v)[1] == "active" else Q(pk__in=[]), ""),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "symptom alerts")

    def queryset_for(self, actor: Actor) -> QuerySet[Alert]:
        return selectors.alert_queryset_for(actor)

    def updated_of(self, obj: Any) -> dt.datetime | None:
        times: list[dt.datetime] = [t for t in (obj.created_at, obj.acknowledged_at, obj.escalated_at, obj.resolved_at) if t]
        return max(times)

    def to_fhir(self, a: Alert) -> dict[str, Any]:
        period = {"start": codes.instant(a.created_at)}
        if a.resolved_at:
            period["end"] = codes.instant(a.resolved_at)
        updated = self.updated_of(a)
        return {
            "resourceType": "Flag",
            "id": str(a.pk),
            "meta": codes.meta(a.version, updated),
            "extension": [
                {"url": EXT_DEADLINE, "valueDateTime": codes.instant(a.deadline)},
                {"url": EXT_WORKFLOW, "valueCode": a.status},
            ],
            "status": "inactive" if a.status == AlertStatus.RESOLVED else "active",
            "category": [{"coding": [codes.coding(CS_FLAG_CATEGORY, "clinical", "Clinical")]}],
            "code": {"coding": [codes.coding(CS_ALERT, a.severity, f"{a.get_severity_display()} symptom alert")],
                     "text": a.summary},
            "subject": codes.ref("Patient", a.patient_id),
            "period": period,
            "author": codes.ref("Organization", a.organization_id),
        }


# --- Task (the care team's response to an alert) -------------------------------------------------------------

_TASK_STATUS = {AlertStatus.OPEN: "requested", AlertStatus.ACKNOWLEDGED: "in-progress",
                AlertStatus.ESCALATED: "in-progress", AlertStatus.RESOLVED: "completed"}


@register
class SymptomAlertResponseTaskMapper(_SymptomIds, ResourceMapper):
    """The response to a symptom alert as a Task (composed with care-plan tasks; ids ``symptom-<alert id>``)."""

    resource_type = "Task"
    model = Alert
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "symptoms"
    documentation = ("The care team's response to a symptom alert (focus: the Flag): owner the navigator, "
                     "restriction.period.end the response deadline, businessStatus the workflow status, one "
                     "note per action taken (called, advised, escalated, sent to emergency).")
    search_params = (
        SearchParam("patient", "reference", "The patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("owner", "reference", "The navigator the alert is assigned to.",
                    params.reference_filter("assigned_to_id", "Practitioner"), _SP + "Task-owner"),
        SearchParam("status", "token", "requested | in-progress | completed",
                    lambda _n, v: Q(status__in=[k for k, t in _TASK_STATUS.items() if t == params.token(v)[1]]),
                    _SP + "Task-status"),
        SearchParam("focus", "reference", "The alert (Flag).", params.reference_filter("pk", "Flag"), ""),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "symptom alert responses")

    def queryset_for(self, actor: Actor) -> QuerySet[Alert]:
        qs = selectors.alert_queryset_for(actor)
        if actor.is_system and not actor.allows("Task", "r"):
            return qs.none()
        return qs

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.prefetch_related("actions")

    def updated_of(self, obj: Any) -> dt.datetime | None:
        times: list[dt.datetime] = [t for t in (obj.created_at, obj.acknowledged_at, obj.escalated_at, obj.resolved_at) if t]
        return max(times)

    def to_fhir(self, a: Alert) -> dict[str, Any]:
        body: dict[str, Any] = {
            "resourceType": "Task",
            "id": fid(a.pk),
            "meta": codes.meta(a.version, self.updated_of(a)),
            "status": _TASK_STATUS[AlertStatus(a.status)],
            "businessStatus": {"coding": [codes.coding(CS_ALERT, f"workflow-{a.status}", a.get_status_display())]},
            "intent": "order",
            "priority": "stat" if a.severity == "severe" else "urgent" if a.severity == "moderate" else "routine",
            "code": {"text": "Respond to a symptom alert"},
            "focus": {"reference": f"Flag/{a.pk}"},
            "for": codes.ref("Patient", a.patient_id),
            "authoredOn": codes.instant(a.created_at),
            "lastModified": codes.instant(self.updated_of(a) or a.created_at),
            "restriction": {"period": {"end": codes.instant(a.deadline)}},
        }
        if a.assigned_to_id:
            body["owner"] = codes.ref("Practitioner", a.assigned_to_id)
        notes = [{"time": codes.instant(act.at), "text": f"{act.get_kind_display()}{': ' + act.note if act.note else ''}",
                  **({"authorReference": codes.ref("Practitioner", act.by_id)} if act.by_id else {})}
                 for act in a.actions.all()]
        if notes:
            body["note"] = notes
        return body
