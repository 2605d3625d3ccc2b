"""JSON API: symptom reports (from the patient's app, a caregiver with reporting proxy, staff taking a
call, or an outside app) and the care team's alert worklist.

A report is validated, scored and run through the program's alert rules by ``services.report_submit``;
the answer carries the scores, the alert if one was raised, and what to tell the person now.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of, expected_version
from oncoliaison.core import audit
from oncoliaison.core.access import require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import ValidationFailed
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id
from oncoliaison.core.versions import etag
from oncoliaison.instruments.models import Instrument
from oncoliaison.patients.selectors import access_patient, contact_points_for

from . import selectors, services
from .models import Alert, AlertAction, ReportSource, SymptomReport
from .schemas import (
    AlertActionIn,
    AlertOut,
    AlertResolveIn,
    AlertVersionIn,
    HistoryFilter,
    InstrumentOut,
    ReportIn,
    ReportOut,
    ScheduleOut,
    SubmitOut,
    WorklistFilter,
)

router = Router(tags=["symptoms"])

# The door a report comes through, by who sends it: the patient's (or proxy's) own app is the portal's
# machine door; staff enter what they were told on a call; outside apps are outside apps.
_SOURCE_FOR_KIND = {
    "patient": ReportSource.PORTAL,
    "caregiver": ReportSource.PORTAL,
    "staff": ReportSource.PHONE,
    "system": ReportSource.FHIR,
}


def _instrument(code: str | None, field: str = "instrument") -> Instrument | None:
    if not code:
        return None
    instrument = selectors.symptom_instruments().filter(code=code).first()
    if instrument is None:
        raise ValidationFailed("Unknown instrument.", field_errors={field: [f"No instrument '{code}'."]})
    return instrument


def _reports(actor: Actor) -> Any:
    return (
        selectors.report_queryset_for(actor).select_related("version__instrument", "alert")
        .prefetch_related("answers", "scores")
    )


# --- instruments and schedules -------------------------------------------------------------------------


@router.get("/patients/{id:patient_id}/symptom-instruments", response={200: list[InstrumentOut], **READ_ERRORS})
def symptom_instrument_list(request: HttpRequest, patient_id: Id) -> list[dict[str, Any]]:
    """The questionnaires this patient may answer (enabled for their program), with every item."""
    actor = actor_of(request)
    require_scope(actor, "Questionnaire", "r")
    patient = access_patient(actor, patient_id, category="symptoms", channel=CHANNEL)
    answer = []
    for instrument in selectors.instruments_enabled_for_patient(patient):
        version = selectors.current_version(instrument)
        answer.append({
            "code": instrument.code, "title": instrument.title, "publisher": instrument.publisher,
            "citation": instrument.citation, "licence_text": instrument.licence,
            "version": version.version, "recall": version.recall, "items": list(version.items.order_by("order")),
        })
    return answer


@router.get("/patients/{id:patient_id}/symptom-schedules", response={200: list[ScheduleOut], **READ_ERRORS})
def symptom_schedule_list(request: HttpRequest, patient_id: Id) -> list[Any]:
    """When the patient is asked to report, per care plan."""
    actor = actor_of(request)
    require_scope(actor, "Questionnaire", "r")
    patient = access_patient(actor, patient_id, category="symptoms", channel=CHANNEL)
    return selectors.schedules_for_patient(actor, patient)


# --- reports --------------------------------------------------------------------------------------------


@router.post("/patients/{id:patient_id}/symptom-reports", response={201: SubmitOut, 200: SubmitOut,
                                                                      **CREATE_ERRORS})
def symptom_report_submit(request: HttpRequest, patient_id: Id,
                          payload: ReportIn) -> Status[dict[str, object]]:
    """Report symptoms.  201 with the scores, any alert and the guidance to show; 200 when the same
    ``source_id`` was already received (the stored report, nothing changed)."""
    actor = actor_of(request)
    patient = access_patient(actor, patient_id, category="symptoms", channel=CHANNEL, audit_read=False)
    instrument = _instrument(payload.instrument)
    if instrument is None:  # an empty code (the schema also says minLength 1)
        raise ValidationFailed("Name the instrument.", field_errors={"instrument": ["Required."]})
    who = actor.client_id or f"user-{actor.user_id}"
    result = services.report_submit(
        actor=actor, patient=patient, instrument=instrument, answers=payload.answers,
        source=_SOURCE_FOR_KIND.get(actor.kind, ""), authored_at=payload.authored_at,
        source_system=f"urn:oncoliaison:api:{who}" if payload.source_id else "",
        source_id=payload.source_id, channel=CHANNEL,
    )
    report: SymptomReport = _reports(actor).filter(pk=result.report.pk).first() or result.report
    guidance = result.guidance
    contacts = contact_points_for(patient)
    body = {
        "created": result.created,
        "report": report,
        "guidance": {
            "severity": guidance.severity, "headline": guidance.headline, "call_now": guidance.call_now,
            "emergency": guidance.emergency, "when_to_call": guidance.when_to_call,
            "self_care": [{"symptom": s, "advice": a} for s, a in guidance.self_care],
            "deadline": guidance.deadline,
            "call": {"urgent_phone": contacts.urgent_phone, "urgent_tel": contacts.urgent_tel,
                     "office_phone": contacts.office_phone, "office_tel": contacts.office_tel,
                     "office_hours": contacts.hours_text},
        },
    }
    return Status(201 if result.created else 200, body)


@router.get("/patients/{id:patient_id}/symptom-reports", response={200: list[ReportOut], **READ_ERRORS})
def symptom_report_list(request: HttpRequest, patient_id: Id, filters: Query[HistoryFilter]) -> list[SymptomReport]:
    """The patient's reports, newest first, with answers, scores and alert."""
    actor = actor_of(request)
    require_scope(actor, "QuestionnaireResponse", "s")
    patient = access_patient(actor, patient_id, category="symptoms", channel=CHANNEL, audit_read=False)
    return selectors.symptom_history_for(
        actor, patient, instrument=_instrument(filters.instrument), since=filters.since, limit=filters.limit,
        channel=CHANNEL,
    )


# --- alerts ---------------------------------------------------------------------------------------------


def _alert(actor: Actor, alert_id: Id) -> Alert:
    return selectors.alert_get_for(actor, alert_id)


def _alert_answer(actor: Actor, alert: Alert, response: HttpResponse) -> Alert:
    response["ETag"] = etag(alert.version)
    return (
        selectors.alert_queryset_for(actor).select_related("patient")
        .prefetch_related(_actions()).get(pk=alert.pk)
    )


def _actions() -> Any:
    from django.db.models import Prefetch

    return Prefetch("actions", queryset=AlertAction.objects.order_by("at", "id"))


@router.get("/symptom-alerts", response={200: list[AlertOut], **READ_ERRORS})
def symptom_alert_worklist(request: HttpRequest, filters: Query[WorklistFilter]) -> list[Alert]:
    """Open alerts of the patients you care for, soonest deadline first (care roles)."""
    actor = actor_of(request)
    return selectors.alert_worklist_for(
        actor, mine_only=filters.mine, include_resolved=filters.include_resolved, channel=CHANNEL
    )


@router.get("/symptom-alerts/{id:alert_id}", response={200: AlertOut, **READ_ERRORS})
def symptom_alert_get(request: HttpRequest, alert_id: Id, response: HttpResponse) -> Alert:
    actor = actor_of(request)
    selectors.require_care_role(actor)
    alert = _alert(actor, alert_id)
    audit.log_patients_read(actor, [alert.patient_id], category="symptoms", resource_type="Flag", channel=CHANNEL)
    return _alert_answer(actor, alert, response)


@router.post("/symptom-alerts/{id:alert_id}/acknowledge", response={200: AlertOut, **WRITE_ERRORS})
def symptom_alert_acknowledge(request: HttpRequest, alert_id: Id, payload: AlertVersionIn,
                              response: HttpResponse) -> Alert:
    """Take the alert: the deadline clock keeps running until it is resolved."""
    actor = actor_of(request)
    selectors.require_care_role(actor)
    alert = services.alert_acknowledge(
        actor=actor, alert=_alert(actor, alert_id), expected_version=expected_version(request, payload.version),
        channel=CHANNEL,
    )
    return _alert_answer(actor, alert, response)


@router.post("/symptom-alerts/{id:alert_id}/actions", response={200: AlertOut, **WRITE_ERRORS})
def symptom_alert_record_action(request: HttpRequest, alert_id: Id, payload: AlertActionIn,
                                response: HttpResponse) -> Alert:
    """Record what was done: called the patient, advised self-care, escalated to a physician, sent to
    emergency, or a note."""
    actor = actor_of(request)
    selectors.require_care_role(actor)
    alert = services.alert_record_action(
        actor=actor, alert=_alert(actor, alert_id), kind=str(payload.kind), note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _alert_answer(actor, alert, response)


@router.post("/symptom-alerts/{id:alert_id}/resolve", response={200: AlertOut, **WRITE_ERRORS})
def symptom_alert_resolve(request: HttpRequest, alert_id: Id, payload: AlertResolveIn,
                          response: HttpResponse) -> Alert:
    """Close the alert (after an action, or with a note saying what was done)."""
    actor = actor_of(request)
    selectors.require_care_role(actor)
    alert = services.alert_resolve(
        actor=actor, alert=_alert(actor, alert_id), note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _alert_answer(actor, alert, response)
