"""JSON API: referrals into the Cancer Liaison Program and their triage.

Reads go through the referral selectors (the same 404 for missing and not visible; every referral
disclosed is audited); every change goes through the referral services, which check the triage role,
the transition and the version.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of, expected_version, organization_pk, page_of
from oncoliaison.core.access import require_scope, require_staff
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, ValidationFailed
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id
from oncoliaison.core.versions import etag

from . import selectors, services
from .models import Referral
from .schemas import (
    AcceptIn,
    DeclineIn,
    MilestoneIn,
    NoteIn,
    QueueFilter,
    ReferralFilter,
    ReferralIn,
    ReferralOut,
    ReferralPage,
    ReferralSummaryOut,
    RequestInfoIn,
)

router = Router(tags=["referrals"])


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, timezone.get_current_timezone())


def _referral(actor: Actor, referral_id: Id, *, audit_read: bool) -> Referral:
    require_scope(actor, "ServiceRequest", "r")
    return selectors.referral_get_for(actor, referral_id, channel=CHANNEL, audit_read=audit_read)


def _answer(actor: Actor, referral: Referral, response: HttpResponse) -> Referral:
    """The referral after a change (the change itself is audited), with its new ETag."""
    response["ETag"] = etag(referral.version)
    return selectors.referral_get_for(actor, referral.pk, channel=CHANNEL, audit_read=False)


# --- reads ------------------------------------------------------------------------------------------


@router.get("/referrals", response={200: ReferralPage, **READ_ERRORS})
def referral_list(request: HttpRequest, filters: Query[ReferralFilter]) -> dict[str, object]:
    """Referrals your programs received or you sent (a client: its organisation's), newest first."""
    actor = actor_of(request)
    require_staff(actor)
    qs = selectors.referral_search_for(
        actor, patient_id=filters.patient_id, statuses=[str(s) for s in filters.status] or None,
        requester_id=filters.requester_id, received_from=_aware(filters.received_from),
        received_to=_aware(filters.received_to),
    )
    items, meta = page_of(qs, page=filters.page, page_size=filters.page_size)
    selectors.audit_disclosed(actor, items, channel=CHANNEL)
    return {**meta, "items": items}


@router.get("/referrals/queue", response={200: list[ReferralSummaryOut], **READ_ERRORS})
def referral_queue(request: HttpRequest, filters: Query[QueueFilter]) -> list[Referral]:
    """Open referrals awaiting triage: most urgent first, then longest waiting (clinical staff)."""
    actor = actor_of(request)
    return selectors.triage_queue_for(
        actor, status=filters.status or "", urgency=filters.urgency or "", channel=CHANNEL
    )


@router.get("/referrals/{id:referral_id}", response={200: ReferralOut, **READ_ERRORS})
def referral_get(request: HttpRequest, referral_id: Id, response: HttpResponse) -> Referral:
    """One referral with its attachments (metadata) and history."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=True)
    response["ETag"] = etag(referral.version)
    return referral


# --- intake -----------------------------------------------------------------------------------------


@router.post("/referrals", response={201: ReferralOut, **CREATE_ERRORS})
def referral_create(request: HttpRequest, payload: ReferralIn, response: HttpResponse) -> Status[Referral]:
    """Refer a person to a lead cancer program (clinicians; API clients with ServiceRequest create)."""
    actor = actor_of(request)
    fields = payload.dict(exclude={"receiving_organization", "referring_organization", "attachments", "gender"})
    data = services.ReferralData(
        **fields,
        gender=str(payload.gender or ""),
        receiving_organization_id=organization_pk(payload.receiving_organization, "receiving_organization"),
        referring_organization_id=organization_pk(payload.referring_organization, "referring_organization"),
        attachments=[services.AttachmentData(**a.dict()) for a in payload.attachments],
    )
    if not actor.is_system:
        data.referring_clinician_id = None  # a signed-in clinician refers as themselves
    referral = services.referral_create(actor=actor, data=data, channel=CHANNEL)
    return Status(201, _answer(actor, referral, response))


# --- triage -----------------------------------------------------------------------------------------


@router.post("/referrals/{id:referral_id}/request-info", response={200: ReferralOut, **WRITE_ERRORS})
def referral_request_info(request: HttpRequest, referral_id: Id, payload: RequestInfoIn,
                          response: HttpResponse) -> Referral:
    """Ask the referrer for what is missing before deciding."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    referral = services.referral_request_info(
        actor=actor, referral=referral, message=payload.message,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/info-received", response={200: ReferralOut, **WRITE_ERRORS})
def referral_info_received(request: HttpRequest, referral_id: Id, payload: NoteIn,
                           response: HttpResponse) -> Referral:
    """The information asked for arrived: back to the queue for a decision."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    referral = services.referral_info_received(
        actor=actor, referral=referral, note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/decline", response={200: ReferralOut, **WRITE_ERRORS})
def referral_decline(request: HttpRequest, referral_id: Id, payload: DeclineIn, response: HttpResponse) -> Referral:
    """Decline with a reason; the letter to the referrer is returned in ``decline_message``."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    referral = services.referral_decline(
        actor=actor, referral=referral, reason=str(payload.reason), message=payload.message,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/withdraw", response={200: ReferralOut, **WRITE_ERRORS})
def referral_withdraw(request: HttpRequest, referral_id: Id, payload: NoteIn, response: HttpResponse) -> Referral:
    """Withdraw an open referral (the referring clinician, or the receiving program)."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    referral = services.referral_withdraw(
        actor=actor, referral=referral, note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/accept", response={200: ReferralOut, **WRITE_ERRORS})
def referral_accept(request: HttpRequest, referral_id: Id, payload: AcceptIn, response: HttpResponse) -> Referral:
    """Accept into the program, linking the person's record or registering a new patient.

    Registering a new patient while possible existing records of the person exist answers 409 with
    their ids in ``fields.duplicate_patient_ids``: link one of them, or send ``duplicates_reviewed``."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    try:
        referral = services.referral_accept(
            actor=actor, referral=referral, link_patient_id=payload.link_patient_id,
            register_new=payload.register_new, duplicates_reviewed=payload.duplicates_reviewed,
            expected_version=expected_version(request, payload.version), channel=CHANNEL,
        )
    except services.DuplicatesFound as exc:
        raise Conflict(exc.message, field_errors={"duplicate_patient_ids": [str(i) for i in exc.candidate_ids]}) from exc
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/contacts", response={200: ReferralOut, **WRITE_ERRORS})
def referral_record_contact(request: HttpRequest, referral_id: Id, payload: MilestoneIn,
                            response: HttpResponse) -> Referral:
    """Record a contact with the person (the first one sets the first-contact time)."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    referral = services.referral_record_contact(
        actor=actor, referral=referral, at=_aware(payload.at), note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)


@router.post("/referrals/{id:referral_id}/first-appointment", response={200: ReferralOut, **WRITE_ERRORS})
def referral_set_first_appointment(request: HttpRequest, referral_id: Id, payload: MilestoneIn,
                                   response: HttpResponse) -> Referral:
    """Record or reschedule the first appointment of an accepted referral."""
    actor = actor_of(request)
    referral = _referral(actor, referral_id, audit_read=False)
    at = _aware(payload.at)
    if at is None:
        raise ValidationFailed("Give the appointment's date and time.", field_errors={"at": ["Required."]})
    referral = services.referral_set_first_appointment(
        actor=actor, referral=referral, at=at, note=payload.note,
        expected_version=expected_version(request, payload.version), channel=CHANNEL,
    )
    return _answer(actor, referral, response)
