"""Cases: submission by a clinician, the coordinator's decision, the agenda's order, the packet."""


from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from oncoliaison.core import clock
from oncoliaison.core.access import require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.selectors import access_patient

from .. import packet, rules
from ..models import (
    BoardCase,
    BoardNotice,
    CaseStatus,
    CaseUrgency,
    ConferenceSeries,
    Invitation,
    InvitationRole,
    Meeting,
    MeetingStatus,
)
from ..selectors import (
    CATEGORY,
    attendee_candidates,
    attendee_organizations,
)
from .common import check_version, log_event, notify, require_coordinator

# --- cases --------------------------------------------------------------------------------------------------


@dataclass
class CaseData:
    patient_id: int | str
    question: str
    prospective: bool | None
    urgency: str = CaseUrgency.ROUTINE
    requested_attendee_ids: list[int] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)


ATTACHMENT_KINDS = ("imaging", "pathology", "laboratory", "genomics", "operative", "other")


def _validate_attachments(items: list[dict[str, str]]) -> list[dict[str, str]]:
    clean: list[dict[str, str]] = []
    for i, item in enumerate(items):
        kind = str(item.get("kind", "")).strip()
        title = str(item.get("title", "")).strip()
        if kind not in ATTACHMENT_KINDS or not title:
            raise ValidationFailed("The case is not valid.", field_errors={"attachments": [
                f"Attachment {i + 1}: give a kind ({', '.join(ATTACHMENT_KINDS)}) and a title."]})
        day = str(item.get("date", "")).strip()
        if day:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ValidationFailed("The case is not valid.", field_errors={"attachments": [
                    f"Attachment {i + 1}: the date must be YYYY-MM-DD."]}) from None
        clean.append({"kind": kind, "title": title[:200], "date": day,
                      "reference": str(item.get("reference", "")).strip()[:300]})
    return clean


def _submitter_organization(actor: Actor, series: ConferenceSeries) -> int:
    taking_part = set(attendee_organizations(series)) & set(actor.patient_care_organization_ids)
    if not taking_part:
        raise Forbidden("Only clinicians of the series' organisations can submit cases to it.")
    return series.organization_id if series.organization_id in taking_part else min(taking_part)


def case_submit(*, actor: Actor, meeting: Meeting, data: CaseData, channel: str = "web") -> BoardCase:
    """A clinician submits a patient they may see for discussion at a meeting."""
    require_scope(actor, "Composition", "c")
    org_id = _submitter_organization(actor, meeting.series)
    errors: dict[str, list[str]] = {}
    if not data.question.strip():
        errors["question"] = ["State the clinical question for the board."]
    if data.prospective is None:
        errors["prospective"] = ["Say whether the case is prospective (before or during first-course treatment, "
                                 "or management still open) or retrospective."]
    if data.urgency not in CaseUrgency.values:
        errors["urgency"] = [f"CaseUrgency must be one of: {', '.join(CaseUrgency.values)}."]
    if errors:
        raise ValidationFailed("The case is not valid.", field_errors=errors)
    attachments = _validate_attachments(data.attachments)
    patient = access_patient(actor, data.patient_id, category=CATEGORY, channel=channel, audit_read=False)
    if meeting.status != MeetingStatus.SCHEDULED or meeting.starts_at <= clock.now():
        raise Conflict("Cases can only be submitted to a meeting that is still to come.")
    deadline = rules.submission_deadline(meeting.starts_at, meeting.series.submission_deadline_hours)
    if clock.now() > deadline and data.urgency != CaseUrgency.URGENT:
        raise Conflict(f"The submission deadline of this meeting has passed ({deadline:%Y-%m-%d %H:%M}); "
                       "submit to the next meeting, or mark the case urgent for the coordinator to decide.")
    requested = sorted(set(data.requested_attendee_ids))
    if requested and attendee_candidates(meeting.series).filter(user_id__in=requested).values(
            "user_id").distinct().count() != len(requested):
        raise ValidationFailed("The case is not valid.", field_errors={
            "requested_attendees": ["Request only clinicians of the series' organisations."]})
    if meeting.cases.filter(patient=patient).exclude(status=CaseStatus.DECLINED).exists():
        raise Conflict("This patient is already submitted to this meeting.")
    with transaction.atomic():
        case = BoardCase.objects.create(
            meeting=meeting, patient=patient, organization_id=org_id, submitted_by_id=actor.user_id,
            submitted_client=(actor.client_id or "")[:64] if actor.is_system else "",
            submitted_at=clock.now(), question=data.question.strip(), prospective=bool(data.prospective),
            urgency=data.urgency, attachments=attachments, presenter_id=actor.user_id)
        case.requested_attendees.set(requested)
        log_event(actor, AuditAction.CREATE, "BoardCase", case.pk, patient.pk,
             f"{'prospective' if case.prospective else 'retrospective'}, {case.urgency}", channel)
    return case


def refresh_packet(actor: Actor, case: BoardCase, channel: str) -> None:
    """The case's packet assembled again from the record now (the caller saves the case)."""
    case.packet = packet.assemble(actor, case, channel=channel)
    case.packet_assembled_at = clock.now()


def case_decide(*, actor: Actor, case: BoardCase, decision: str, note: str = "", to_meeting: Meeting | None = None,
                expected_version: int | None = None, channel: str = "web") -> BoardCase:
    """The coordinator accepts a case onto the agenda (its packet is assembled now), defers it (to a later
    meeting of the series, or back to the queue), or declines it with a reason."""
    meeting = case.meeting
    require_coordinator(actor, meeting.series)
    check_version(case.version, expected_version)
    target = {"accept": CaseStatus.ACCEPTED, "defer": CaseStatus.DEFERRED, "decline": CaseStatus.DECLINED}.get(decision)
    if target is None:
        raise ValidationFailed("Decide with accept, defer or decline.", field_errors={"decision": ["Unknown decision."]})
    error = rules.case_transition_error(case.status, target)
    if error:
        raise Conflict(error)
    if target == CaseStatus.DECLINED and not note.strip():
        raise ValidationFailed("Say why the case is declined.", field_errors={"note": ["Give a reason."]})
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS):
        raise Conflict("This meeting is over; move the case to a meeting that is still to come.")
    if to_meeting is not None and (to_meeting.series_id != meeting.series_id or to_meeting.status !=
                                   MeetingStatus.SCHEDULED or to_meeting.starts_at <= clock.now()):
        raise ValidationFailed("Move the case to a meeting of the same series that is still to come.")
    with transaction.atomic():
        case.status = target
        case.decision_note = note.strip()[:300]
        if to_meeting is not None:
            case.meeting = to_meeting
        if target == CaseStatus.ACCEPTED:
            last = case.meeting.cases.filter(status=CaseStatus.ACCEPTED).aggregate(m=Max("agenda_position"))["m"]
            case.agenda_position = (last or 0) + 1
            refresh_packet(actor, case, channel)
            presenter = case.presenter_id or case.submitted_by_id
            if presenter is not None:
                Invitation.objects.get_or_create(meeting=case.meeting, user_id=presenter,
                                                 defaults={"role": InvitationRole.PRESENTER})
            requested = list(case.requested_attendees.values_list("pk", flat=True))
            existing = set(case.meeting.invitations.values_list("user_id", flat=True))
            Invitation.objects.bulk_create([Invitation(meeting=case.meeting, user_id=u) for u in requested
                                            if u not in existing])
            notify([case.submitted_by_id], BoardNotice.Kind.CASE_ACCEPTED, case.meeting, case)
            notify([case.presenter_id] if case.presenter_id != case.submitted_by_id else [],
                    BoardNotice.Kind.PRESENTING, case.meeting, case)
            notify([u for u in requested if u not in existing], BoardNotice.Kind.INVITED, case.meeting, case)
        else:
            case.agenda_position = None
            kind = BoardNotice.Kind.CASE_DEFERRED if target == CaseStatus.DEFERRED else BoardNotice.Kind.CASE_DECLINED
            notify([case.submitted_by_id], kind, case.meeting, case)
        case.version += 1
        case.save()
        log_event(actor, AuditAction.UPDATE, "BoardCase", case.pk, case.patient_id, decision, channel)
    return case


def agenda_order(*, actor: Actor, meeting: Meeting, case_ids: Sequence[int], channel: str = "web") -> None:
    """Put the accepted cases in the given order (every accepted case of the meeting, each once)."""
    require_coordinator(actor, meeting.series)
    accepted = set(meeting.cases.filter(status=CaseStatus.ACCEPTED).values_list("pk", flat=True))
    if len(case_ids) != len(set(case_ids)) or set(case_ids) != accepted:
        raise ValidationFailed("Give every case on the agenda once, in the new order.")
    with transaction.atomic():
        for position, pk in enumerate(case_ids, start=1):
            BoardCase.objects.filter(pk=pk).update(agenda_position=position)
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        log_event(actor, AuditAction.UPDATE, "Appointment", meeting.pk, None, "agenda ordered", channel)


def packet_refresh(*, actor: Actor, case: BoardCase, channel: str = "web") -> BoardCase:
    require_coordinator(actor, case.meeting.series)
    if case.packet_frozen_at is not None:
        raise Conflict("The packet was frozen when the meeting closed; add an addendum instead.")
    if case.status != CaseStatus.ACCEPTED:
        raise Conflict("Only a case on the agenda has a packet to refresh.")
    with transaction.atomic():
        refresh_packet(actor, case, channel)
        case.version += 1
        case.save()
        log_event(actor, AuditAction.UPDATE, "BoardCase", case.pk, case.patient_id, "packet refreshed", channel)
    return case
