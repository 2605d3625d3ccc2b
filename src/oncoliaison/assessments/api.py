"""JSON API: needs assessments (distress and social-needs screening) and the referrals they propose.

Patients (and caregivers with a reporting proxy) complete their own screening from the portal's app;
staff record one taken with the patient; outside apps with the QuestionnaireResponse create scope send
theirs.  The rules score it and propose referrals, which the navigator accepts or rejects.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of
from oncoliaison.core.access import require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import ValidationFailed
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id
from oncoliaison.instruments.selectors import instrument_by_code
from oncoliaison.patients.selectors import access_patient

from . import selectors, services
from .models import Assessment, ReferralSuggestion
from .schemas import (
    AssessmentIn,
    AssessmentInstrumentOut,
    AssessmentOut,
    AssessmentSummaryOut,
    EnteredInErrorIn,
    SuggestionDecisionIn,
    SuggestionOut,
)

router = Router(tags=["assessments"])

_DETAIL = ("patient", "organization", "instrument_version__instrument", "author")


def _detail(actor: Actor, assessment_id: Id) -> Assessment | None:
    """An assessment just written, reloaded for the answer (the write itself is audited)."""
    return (
        selectors.assessment_queryset_for(actor).select_related(*_DETAIL)
        .prefetch_related("scores", "answers", "suggestions").filter(pk=assessment_id).first()
    )


@router.get("/patients/{id:patient_id}/assessment-instruments",
            response={200: list[AssessmentInstrumentOut], **READ_ERRORS})
def assessment_instrument_list(request: HttpRequest, patient_id: Id) -> list[dict[str, Any]]:
    """The screening instruments that may be used for this patient now (licence permissions applied)."""
    actor = actor_of(request)
    require_scope(actor, "Questionnaire", "r")
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL)
    return [
        {"code": v.instrument.code, "title": v.instrument.title, "publisher": v.instrument.publisher,
         "citation": v.instrument.citation, "licence": v.instrument.licence, "loinc_code": v.instrument.loinc_code,
         "version": v.version, "definition": v.definition}
        for v in selectors.available_versions_for(actor, patient)
    ]


@router.get("/patients/{id:patient_id}/assessments", response={200: list[AssessmentSummaryOut], **READ_ERRORS})
def assessment_list(request: HttpRequest, patient_id: Id) -> list[Assessment]:
    """The patient's assessments, newest first, with their scores."""
    actor = actor_of(request)
    require_scope(actor, "QuestionnaireResponse", "s")
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL)
    return list(selectors.assessment_list_for_patient(actor, patient).select_related("organization"))


@router.post("/patients/{id:patient_id}/assessments", response={201: AssessmentOut, **CREATE_ERRORS})
def assessment_submit(request: HttpRequest, patient_id: Id, payload: AssessmentIn) -> Status[Assessment]:
    """Record a completed assessment; the answer carries its scores and the referrals it proposes."""
    actor = actor_of(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL, audit_read=False)
    instrument = instrument_by_code(payload.instrument, purpose=selectors.PURPOSE)
    version = selectors.current_version(instrument) if instrument else None
    if version is None:
        raise ValidationFailed("Unknown instrument.",
                               field_errors={"instrument": [f"No instrument '{payload.instrument}'."]})
    assessment = services.assessment_submit(
        actor=actor, patient=patient, version=version, answers=payload.answers, started_at=payload.started_at,
        authored_at=payload.authored_at, filled_by=str(payload.filled_by) if payload.filled_by else None,
        note=payload.note, channel=CHANNEL,
    )
    return Status(201, _detail(actor, assessment.pk) or assessment)


@router.get("/assessments/{id:assessment_id}", response={200: AssessmentOut, **READ_ERRORS})
def assessment_get(request: HttpRequest, assessment_id: Id) -> Assessment:
    """One assessment with its answers, scores and proposed referrals."""
    actor = actor_of(request)
    require_scope(actor, "QuestionnaireResponse", "r")
    assessment = selectors.assessment_get_for(actor, assessment_id, channel=CHANNEL)
    return _detail(actor, assessment.pk) or assessment


@router.post("/assessments/{id:assessment_id}/entered-in-error", response={200: AssessmentOut, **WRITE_ERRORS})
def assessment_mark_in_error(request: HttpRequest, assessment_id: Id, payload: EnteredInErrorIn) -> Assessment:
    """Withdraw an assessment recorded by mistake (care staff); its open suggestions are closed."""
    actor = actor_of(request)
    assessment = selectors.assessment_get_for(actor, assessment_id, channel=CHANNEL)
    assessment = services.assessment_mark_in_error(actor=actor, assessment=assessment, reason=payload.reason,
                                                   channel=CHANNEL)
    return _detail(actor, assessment.pk) or assessment


@router.post("/assessment-suggestions/{id:suggestion_id}/decide", response={200: SuggestionOut, **WRITE_ERRORS})
def assessment_suggestion_decide(request: HttpRequest, suggestion_id: Id,
                                 payload: SuggestionDecisionIn) -> ReferralSuggestion:
    """Accept or reject a proposed referral (care staff; once)."""
    actor = actor_of(request)
    suggestion = selectors.suggestion_get_for(actor, suggestion_id)
    return services.suggestion_decide(actor=actor, suggestion=suggestion, accept=payload.accept, note=payload.note,
                                      channel=CHANNEL)
