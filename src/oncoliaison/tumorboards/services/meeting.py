"""The meeting itself: start, presenter mode, attendance, the discussion, recommendations, and closing it —
packets frozen, recommendations made care-plan tasks through the care-plan services."""


from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from oncoliaison.careplans import services as careplans
from oncoliaison.careplans.models import TaskPriority
from oncoliaison.careplans.selectors import assignable_staff_for
from oncoliaison.core import clock
from oncoliaison.core.access import require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, ValidationFailed
from oncoliaison.core.models import AuditAction

from .. import rules
from ..models import (
    Agreement,
    Attendance,
    AttendanceMode,
    BoardCase,
    BoardNotice,
    CaseStatus,
    CaseUrgency,
    Meeting,
    MeetingStatus,
    Recommendation,
    RecommendationKind,
    Specialty,
)
from ..selectors import (
    attendee_candidates,
)
from .cases import refresh_packet
from .common import check_version, log_event, notify, require_coordinator

# --- the meeting --------------------------------------------------------------------------------------------


def meeting_start(*, actor: Actor, meeting: Meeting, channel: str = "web") -> Meeting:
    require_coordinator(actor, meeting.series)
    error = rules.meeting_transition_error(meeting.status, MeetingStatus.IN_PROGRESS)
    if error:
        raise Conflict(error)
    with transaction.atomic():
        # The packets as of the meeting: what the board discusses is the record as it stands now.
        for case in meeting.cases.filter(status=CaseStatus.ACCEPTED, packet_frozen_at__isnull=True):
            refresh_packet(actor, case, channel)
            case.version += 1
            case.save(update_fields=["packet", "packet_assembled_at", "version", "updated_at"])
        meeting.status = MeetingStatus.IN_PROGRESS
        meeting.current_case = None  # the agenda, until the presenter opens the first case
        meeting.presenter_step += 1
        meeting.version += 1
        meeting.save()
        log_event(actor, AuditAction.UPDATE, "Appointment", meeting.pk, None, "started", channel)
    return meeting


def meeting_present(*, actor: Actor, meeting: Meeting, case: BoardCase | None, channel: str = "web") -> Meeting:
    """Presenter mode: put ``case`` on every attendee's screen (None: the agenda)."""
    require_coordinator(actor, meeting.series)
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise Conflict("Start the meeting before presenting cases.")
    if case is not None and (case.meeting_id != meeting.pk or case.status not in (CaseStatus.ACCEPTED,
                                                                                   CaseStatus.DISCUSSED)):
        raise ValidationFailed("Present a case of this meeting's agenda.")
    # The counter moves in the database, so two quick moves are two steps even when made from stale pages.
    Meeting.objects.filter(pk=meeting.pk).update(current_case=case, presenter_step=F("presenter_step") + 1)
    meeting.current_case = case
    meeting.presenter_step = Meeting.objects.values_list("presenter_step", flat=True).get(pk=meeting.pk)
    return meeting


@dataclass
class AttendanceData:
    user_id: int
    specialty: str
    mode: str
    organization_id: int | None = None


def attendance_record(*, actor: Actor, meeting: Meeting, data: AttendanceData, channel: str = "web") -> Attendance:
    """Record that a clinician of the series' organisations took part (the coordinator records anyone; a
    person records only themselves, e.g. when joining by video).  Recording twice keeps the first time."""
    require_scope(actor, "Appointment", "u")
    if data.user_id != actor.user_id:
        require_coordinator(actor, meeting.series)
    errors: dict[str, list[str]] = {}
    if data.specialty not in Specialty.values:
        errors["specialty"] = [f"Specialty must be one of: {', '.join(Specialty.values)}."]
    if data.mode not in AttendanceMode.values:
        errors["mode"] = ["Attendance is in_person or virtual."]
    if errors:
        raise ValidationFailed("The attendance is not valid.", field_errors=errors)
    memberships = attendee_candidates(meeting.series).filter(user_id=data.user_id)
    if data.organization_id is not None:
        memberships = memberships.filter(organization_id=data.organization_id)
    membership = memberships.order_by("organization_id").first()
    if membership is None:
        raise ValidationFailed("Only clinicians of the series' organisations (and the partners it is shared with) "
                               "can attend.", field_errors={"user": ["Not a member of a taking-part organisation."]})
    if meeting.status in (MeetingStatus.CANCELLED,):
        raise Conflict("The meeting was cancelled.")
    if meeting.status == MeetingStatus.HELD:
        raise Conflict("The meeting is closed; its attendance can no longer change.")
    with transaction.atomic():
        row, created = Attendance.objects.get_or_create(
            meeting=meeting, user_id=data.user_id,
            defaults={"organization_id": membership.organization_id, "specialty": data.specialty, "mode": data.mode,
                      "joined_at": clock.now(), "recorded_by_id": actor.user_id})
        if created:
            log_event(actor, AuditAction.CREATE, "Attendance", row.pk, None,
                 f"appointment {meeting.pk}, {data.specialty}, {data.mode}", channel)
    return row


@dataclass
class DiscussionData:
    stage_discussed: bool
    stage_agreed: str = ""
    stage_edition: str = ""
    guideline_body: str = ""
    guideline_name: str = ""
    guideline_version: str = ""
    trial_discussed: bool = False
    trials: str = ""
    discussion: str = ""


def _require_open_case(case: BoardCase) -> None:
    if case.packet_frozen_at is not None:
        raise Conflict("The meeting's record is closed; a correction is an addendum.")


def case_record_discussion(*, actor: Actor, case: BoardCase, data: DiscussionData,
                           expected_version: int | None = None, channel: str = "web") -> BoardCase:
    require_coordinator(actor, case.meeting.series)
    _require_open_case(case)
    check_version(case.version, expected_version)
    if case.meeting.status != MeetingStatus.IN_PROGRESS:
        raise Conflict("The discussion is recorded during the meeting (start it first).")
    if case.status not in (CaseStatus.ACCEPTED, CaseStatus.DISCUSSED):
        raise Conflict("Only a case on the agenda is discussed.")
    errors: dict[str, list[str]] = {}
    if data.stage_discussed and not data.stage_agreed.strip():
        errors["stage_agreed"] = ["Give the stage the board agreed (e.g. cT2 cN1 cM0, IIB)."]
    if (data.guideline_name.strip() or data.guideline_version.strip()) and not data.guideline_body.strip():
        errors["guideline_body"] = ["Name the guideline's body (e.g. NCCN)."]
    if data.trials.strip() and not data.trial_discussed:
        errors["trial_discussed"] = ["Trials are named: mark that a clinical trial was discussed."]
    if errors:
        raise ValidationFailed("The discussion is not valid.", field_errors=errors)
    with transaction.atomic():
        for name in ("stage_agreed", "stage_edition", "guideline_body", "guideline_name", "guideline_version",
                     "trials", "discussion"):
            setattr(case, name, str(getattr(data, name)).strip())
        case.stage_discussed = data.stage_discussed
        case.trial_discussed = data.trial_discussed
        case.status = CaseStatus.DISCUSSED
        case.discussed_at = case.discussed_at or clock.now()
        case.version += 1
        case.save()
        log_event(actor, AuditAction.UPDATE, "BoardCase", case.pk, case.patient_id, "discussion recorded", channel)
    return case


@dataclass
class RecommendationData:
    kind: str
    description: str
    agreement: str = Agreement.CONSENSUS
    dissent_reason: str = ""
    responsible_id: int | None = None
    due_date: dt.date | None = None


def recommendation_add(*, actor: Actor, case: BoardCase, data: RecommendationData,
                       channel: str = "web") -> Recommendation:
    require_scope(actor, "ServiceRequest", "c")
    require_coordinator(actor, case.meeting.series)
    _require_open_case(case)
    errors: dict[str, list[str]] = {}
    if data.kind not in RecommendationKind.values:
        errors["kind"] = [f"Say what kind of recommendation it is: {', '.join(RecommendationKind.values)}."]
    if not data.description.strip():
        errors["description"] = ["Describe the recommendation."]
    if data.agreement not in Agreement.values:
        errors["agreement"] = ["Agreement is consensus or dissent."]
    elif data.agreement == Agreement.DISSENT and not data.dissent_reason.strip():
        errors["dissent_reason"] = ["Record the dissent's reason."]
    if data.responsible_id is not None and not attendee_candidates(case.meeting.series).filter(
            user_id=data.responsible_id).exists():
        errors["responsible"] = ["The responsible clinician must be a member of the series' organisations."]
    if data.due_date is not None and data.due_date < clock.today():
        errors["due_date"] = ["The due date is in the past."]
    if errors:
        raise ValidationFailed("The recommendation is not valid.", field_errors=errors)
    if case.status not in (CaseStatus.ACCEPTED, CaseStatus.DISCUSSED) or case.meeting.status != \
            MeetingStatus.IN_PROGRESS:
        raise Conflict("Recommendations are recorded for a case of a meeting in progress.")
    with transaction.atomic():
        rec = Recommendation.objects.create(
            case=case, patient_id=case.patient_id, kind=data.kind, description=data.description.strip()[:500],
            agreement=data.agreement, dissent_reason=data.dissent_reason.strip()[:500],
            responsible_id=data.responsible_id, due_date=data.due_date, created_by_id=actor.user_id)
        if case.status == CaseStatus.ACCEPTED:
            case.status = CaseStatus.DISCUSSED
            case.discussed_at = clock.now()
            case.version += 1
            case.save()
        log_event(actor, AuditAction.CREATE, "ServiceRequest", rec.pk, case.patient_id, data.kind, channel)
    return rec


def meeting_close(*, actor: Actor, meeting: Meeting, minutes: str = "", channel: str = "web") -> Meeting:
    """Close the meeting: packets of the cases discussed are frozen as what the board saw, cases not reached
    go back to the queue, and each recommendation becomes a task in the patient's care plan."""
    require_coordinator(actor, meeting.series)
    error = rules.meeting_transition_error(meeting.status, MeetingStatus.HELD)
    if error:
        raise Conflict(error)
    if meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at > clock.now():
        raise Conflict("A meeting cannot be closed before it starts.")
    now = clock.now()
    with transaction.atomic():
        meeting.status = MeetingStatus.HELD
        meeting.held_at = now
        meeting.minutes = minutes.strip()
        meeting.current_case = None
        meeting.version += 1
        meeting.save()
        meeting.cases.filter(status=CaseStatus.ACCEPTED).update(
            status=CaseStatus.DEFERRED, decision_note="Not reached at the meeting.", agenda_position=None)
        discussed = list(meeting.cases.filter(status=CaseStatus.DISCUSSED).select_related("patient"))
        BoardCase.objects.filter(pk__in=[c.pk for c in discussed]).update(packet_frozen_at=now)
        log_event(actor, AuditAction.UPDATE, "Appointment", meeting.pk, None, f"closed, {len(discussed)} discussed", channel)
        for case in discussed:
            recommendations_to_tasks(actor=actor, case=case, channel=channel)
    return meeting


def recommendations_to_tasks(*, actor: Actor, case: BoardCase, channel: str = "web") -> int:
    """Each recommendation of the case without a task becomes one in the patient's open care plan (a plan is
    drafted when there is none), owned by the responsible clinician when they may own the patient's tasks."""
    todo = list(case.recommendations.filter(task__isnull=True).order_by("pk"))
    if not todo:
        return 0
    plan = careplans.care_plan_open_or_draft(actor=actor, patient=case.patient, channel=channel)
    owners = set(assignable_staff_for(actor, case.patient).values_list("pk", flat=True))
    priority = TaskPriority.URGENT if case.urgency == CaseUrgency.URGENT else TaskPriority.ROUTINE
    for rec in todo:
        description = f"Tumor board ({case.meeting.starts_at:%Y-%m-%d}) — {rec.get_kind_display()}: {rec.description}"
        task = careplans.task_create(actor=actor, plan=plan, channel=channel, data=careplans.TaskData(
            description=description[:300], owner_id=rec.responsible_id if rec.responsible_id in owners else None,
            due_date=rec.due_date if rec.due_date and rec.due_date >= plan.period_start else None,
            priority=priority))
        Recommendation.objects.filter(pk=rec.pk).update(task=task)
        if rec.responsible_id:
            notify([rec.responsible_id], BoardNotice.Kind.RECOMMENDATION, case.meeting, case)
    return len(todo)
