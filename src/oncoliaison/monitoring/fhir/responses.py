"""FHIR QuestionnaireResponse of symptom reports (create, read, search) and the batch ingest of many
(``questionnaire_responses_ingest``; the ``POST [base]`` batch handler of symptom reports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as QRModel
from pydantic import ValidationError

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from oncoliaison.fhir import codes, params, registry, validation
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import InstrumentItem, InstrumentVersion
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

from .. import selectors, services
from ..models import SymptomReport
from .common import (
    CS_RESPONSE,
    SP,
    SymptomIds,
    canonical,
    fid,
    ours,
    staff_or_system,
)

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
    patient_id = registry.reference_to(resource.get("subject"), "Patient", "subject")
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


@registry.register
class SymptomResponseMapper(SymptomIds, registry.ResourceMapper):
    resource_type = "QuestionnaireResponse"
    model = SymptomReport
    interactions = (registry.READ, registry.SEARCH, registry.CREATE)
    patient_linked = True
    audit_category = "symptoms"
    documentation = ("Symptom reports. Create answers a Questionnaire of this server (questionnaire = its "
                     "canonical URL); the server scores it, runs the program's alert rules and returns the "
                     "stored response. identifier (system + value) makes create idempotent.")
    search_params = (
        registry.SearchParam("patient", "reference", "The patient who reported.",
                             params.reference_filter("patient_id", "Patient"), SP + "QuestionnaireResponse-patient"),
        registry.SearchParam("subject", "reference", "The patient who reported.",
                             params.reference_filter("patient_id", "Patient"), SP + "QuestionnaireResponse-subject"),
        registry.SearchParam("authored", "date", "When the answers were given.", params.datetime_filter("authored_at"),
                             SP + "QuestionnaireResponse-authored"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        staff_or_system(actor, "symptom reports")

    def queryset_for(self, actor: Actor) -> QuerySet[SymptomReport]:
        return selectors.report_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("version__instrument").prefetch_related("answers")

    versioned = False  # never changed in place
    updated_field = "received_at"

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
        return ours(resource)

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
