"""JSON API of tumor boards.  Reads go through the tumor-board selectors (a case is visible only with its
patient; every case disclosed is audited); every change goes through the services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from oncoliaison.apiauth import CHANNEL, actor_of, expected_version, organization_pk
from oncoliaison.core.access import require_scope, require_staff
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Int
from oncoliaison.core.versions import etag

from . import report, rules, selectors, services
from .models import Attendance, BoardCase, ConferenceSeries, Meeting, Recommendation
from .schemas import (
    AddendumIn,
    AgendaOrderIn,
    AttendanceIn,
    AttendanceOut,
    CaseIn,
    CaseOut,
    CloseIn,
    ConferenceReportOut,
    DecisionIn,
    DiscussionIn,
    MeetingIn,
    MeetingOut,
    PresentIn,
    RecommendationIn,
    RecommendationOut,
    SeriesIn,
    SeriesOut,
    SummaryIn,
    VersionIn,
)

router = Router(tags=["tumor boards"])


class ReportFilter(Schema):
    year: Int = Field(..., ge=2000, le=2100)
    series_id: Id | None = None


class MeetingFilter(Schema):
    year: Int | None = None


# --- translation --------------------------------------------------------------------------------------------


def _series_out(series: ConferenceSeries) -> dict[str, Any]:
    return {"id": series.pk, "name": series.name, "disease_site": series.disease_site,
            "organization": series.organization.slug, "coordinator_id": series.coordinator_id,
            "recurrence": series.recurrence, "default_location": series.default_location,
            "required_specialties": list(series.required_specialties),
            "submission_deadline_hours": series.submission_deadline_hours, "policy": series.policy,
            "shared_with": sorted(series.shared_with.values_list("slug", flat=True)), "active": series.active,
            "version": series.version}


def _meeting_out(actor: Actor, meeting: Meeting) -> dict[str, Any]:
    agenda = selectors.agenda_for(actor, meeting, channel=CHANNEL)
    return {"id": meeting.pk, "series_id": meeting.series_id, "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes, "location": meeting.location, "status": meeting.status,
            "video_link": selectors.video_link_for(actor, meeting),
            "current_case_id": meeting.current_case_id if meeting.current_case_id in {c.pk for c in agenda} else None,
            "presenter_step": meeting.presenter_step,
            "agenda": [{"id": c.pk, "patient_id": c.patient_id, "question": c.question, "prospective": c.prospective,
                        "urgency": c.urgency, "status": c.status, "agenda_position": c.agenda_position}
                       for c in agenda],
            "hidden_cases": selectors.hidden_agenda_count(actor, meeting), "version": meeting.version}


def _rec_out(rec: Recommendation) -> dict[str, Any]:
    return {"id": rec.pk, "case_id": rec.case_id, "kind": rec.kind, "description": rec.description,
            "agreement": rec.agreement, "dissent_reason": rec.dissent_reason, "responsible_id": rec.responsible_id,
            "due_date": rec.due_date, "task_id": rec.task_id, "concordance": rec.concordance,
            "concordance_manual": rec.concordance_manual, "concordance_reason": rec.concordance_reason,
            "concordance_evidence": rec.concordance_evidence}


def _case_out(case: BoardCase) -> dict[str, Any]:
    fields = ("question", "prospective", "urgency", "status", "decision_note", "agenda_position", "attachments",
              "packet", "packet_assembled_at", "packet_frozen_at", "stage_discussed", "stage_agreed",
              "stage_edition", "guideline_body", "guideline_name", "guideline_version", "trial_discussed",
              "trials", "discussion", "summary", "summary_status", "version", "submitted_at", "submitted_client")
    return {"id": case.pk, "meeting_id": case.meeting_id, "patient_id": case.patient_id,
            "organization": case.organization.slug, "submitted_by_id": case.submitted_by_id,
            **{f: getattr(case, f) for f in fields},
            "recommendations": [_rec_out(r) for r in case.recommendations.order_by("pk")],
            "addenda": [{"author_id": a.author_id, "written_at": a.written_at, "text": a.text}
                        for a in case.addenda.all()]}


def _attendance_out(row: Attendance) -> dict[str, Any]:
    return {"id": row.pk, "meeting_id": row.meeting_id, "user_id": row.user_id,
            "organization": row.organization.slug, "specialty": row.specialty, "mode": row.mode,
            "joined_at": row.joined_at}


def _series(actor: Actor, series_id: int) -> ConferenceSeries:
    require_scope(actor, "Appointment", "r")
    return selectors.series_get_for(actor, series_id)


def _meeting(actor: Actor, meeting_id: int) -> Meeting:
    require_scope(actor, "Appointment", "r")
    return selectors.meeting_get_for(actor, meeting_id)


def _case(actor: Actor, case_id: int, *, audit_read: bool = False) -> BoardCase:
    require_scope(actor, "Composition", "r")
    return selectors.case_get_for(actor, case_id, channel=CHANNEL, audit_read=audit_read)


def _case_answer(actor: Actor, case: BoardCase, response: HttpResponse) -> dict[str, Any]:
    fresh = selectors.case_get_for(actor, case.pk, channel=CHANNEL, audit_read=False)
    response["ETag"] = etag(fresh.version)
    return _case_out(fresh)


# --- series -------------------------------------------------------------------------------------------------


@router.get("/tumor-boards", response={200: list[SeriesOut], **READ_ERRORS})
def tumor_board_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The conference series of your organisations and those shared with them."""
    actor = actor_of(request)
    require_staff(actor)
    require_scope(actor, "Appointment", "r")
    return [_series_out(s) for s in selectors.series_queryset_for(actor).select_related("organization")]


@router.post("/tumor-boards", response={201: SeriesOut, **CREATE_ERRORS})
def tumor_board_create(request: HttpRequest, payload: SeriesIn, response: HttpResponse) -> Status[dict[str, Any]]:
    """Set up a conference series (the program's CLP or administrator)."""
    actor = actor_of(request)
    require_scope(actor, "Appointment", "c")
    org_id = organization_pk(payload.organization, "organization") or actor.primary_organization_id
    if org_id is None:
        raise Forbidden("Only the CLP or the program administrator sets up tumor boards.")
    data = services.SeriesData(
        name=payload.name, disease_site=str(payload.disease_site), coordinator_id=payload.coordinator_id,
        recurrence=str(payload.recurrence), default_location=payload.default_location,
        default_video_link=payload.default_video_link,
        required_specialties=[str(s) for s in payload.required_specialties]
        if payload.required_specialties is not None else None,
        submission_deadline_hours=payload.submission_deadline_hours, policy=payload.policy,
        shared_with_ids=[pk for slug in payload.shared_with if (pk := organization_pk(slug, "shared_with"))])
    series = services.series_create(actor=actor, organization_id=org_id, data=data, channel=CHANNEL)
    response["ETag"] = etag(series.version)
    return Status(201, _series_out(series))


@router.get("/tumor-boards/report", response={200: list[ConferenceReportOut], **READ_ERRORS})
def tumor_board_report(request: HttpRequest, filters: Query[ReportFilter]) -> list[dict[str, Any]]:
    """The CoC standard 2.5 figures for a calendar year, one entry per series (counts only, no patients)."""
    actor = actor_of(request)
    require_staff(actor)
    require_scope(actor, "Appointment", "r")
    if not 2000 <= filters.year <= 2100:
        raise ValidationFailed("Give a year between 2000 and 2100.", field_errors={"year": ["Out of range."]})
    reports = report.conference_reports_for(actor, year=filters.year, series_id=filters.series_id, channel=CHANNEL)
    return [report_out(r.series, filters.year, r.report) for r in reports]


def report_out(series: ConferenceSeries, year: int, figures: rules.ConferenceReport) -> dict[str, Any]:
    def share(s: rules.Share) -> dict[str, Any]:
        return {"count": s.count, "of": s.of, "percent": s.percent}

    return {"series_id": series.pk, "series": series.name, "year": year,
            "required_specialties": list(series.required_specialties), "scheduled": figures.scheduled,
            "held": figures.held, "cancelled": figures.cancelled, "cases_presented": figures.cases_presented,
            **{k: share(getattr(figures, k)) for k in ("prospective", "stage_discussed", "guideline_discussed",
                                                       "trial_discussed", "all_required_present",
                                                       "partner_conferences", "partner_cases")},
            "specialty_attendance": {k: share(v) for k, v in figures.specialty_attendance.items()}}


@router.get("/tumor-boards/{id:series_id}", response={200: SeriesOut, **READ_ERRORS})
def tumor_board_get(request: HttpRequest, series_id: Id, response: HttpResponse) -> dict[str, Any]:
    actor = actor_of(request)
    series = _series(actor, series_id)
    response["ETag"] = etag(series.version)
    return _series_out(series)


@router.get("/tumor-boards/{id:series_id}/meetings", response={200: list[MeetingOut], **READ_ERRORS})
def tumor_board_meeting_list(request: HttpRequest, series_id: Id, filters: Query[MeetingFilter]) -> list[dict[str, Any]]:
    """The series' meetings (of a year, when given), each with the agenda you may see."""
    actor = actor_of(request)
    series = _series(actor, series_id)
    return [_meeting_out(actor, m) for m in selectors.meetings_of(actor, series, year=filters.year)
            .select_related("series")[:200]]


@router.post("/tumor-boards/{id:series_id}/meetings", response={201: list[MeetingOut], **CREATE_ERRORS})
def tumor_board_meeting_create(request: HttpRequest, series_id: Id, payload: MeetingIn) -> Status[list[dict[str, Any]]]:
    """Schedule a meeting (or ``repeat`` meetings by the series' recurrence) — the coordinator."""
    actor = actor_of(request)
    series = _series(actor, series_id)
    data = services.MeetingData(starts_at=payload.starts_at, duration_minutes=payload.duration_minutes,
                                location=payload.location, video_link=payload.video_link,
                                generate_video=payload.generate_video)
    if payload.repeat > 1:
        meetings = services.meetings_schedule_recurring(actor=actor, series=series, first=data, count=payload.repeat,
                                                        channel=CHANNEL)
    else:
        meetings = [services.meeting_schedule(actor=actor, series=series, data=data, channel=CHANNEL)]
    return Status(201, [_meeting_out(actor, selectors.meeting_get_for(actor, m.pk)) for m in meetings])


# --- meetings -----------------------------------------------------------------------------------------------


@router.get("/tumor-board-meetings/{id:meeting_id}", response={200: MeetingOut, **READ_ERRORS})
def tumor_board_meeting_get(request: HttpRequest, meeting_id: Id, response: HttpResponse) -> dict[str, Any]:
    """A meeting with its agenda (the cases you may see) and, for invited attendees, its video link."""
    actor = actor_of(request)
    meeting = _meeting(actor, meeting_id)
    response["ETag"] = etag(meeting.version)
    return _meeting_out(actor, meeting)


@router.post("/tumor-board-meetings/{id:meeting_id}/cases", response={201: CaseOut, **CREATE_ERRORS})
def tumor_board_case_create(request: HttpRequest, meeting_id: Id, payload: CaseIn,
                            response: HttpResponse) -> Status[dict[str, Any]]:
    """Submit a patient you may see for discussion (clinicians of the series' organisations)."""
    actor = actor_of(request)
    meeting = _meeting(actor, meeting_id)
    case = services.case_submit(actor=actor, meeting=meeting, channel=CHANNEL, data=services.CaseData(
        patient_id=payload.patient_id, question=payload.question, prospective=payload.prospective,
        urgency=str(payload.urgency), requested_attendee_ids=list(payload.requested_attendee_ids),
        attachments=[{**a.dict(), "date": a.date.isoformat() if a.date else ""} for a in payload.attachments]))
    return Status(201, _case_answer(actor, case, response))


@router.post("/tumor-board-meetings/{id:meeting_id}/attendance", response={201: AttendanceOut, **CREATE_ERRORS})
def tumor_board_attendance_create(request: HttpRequest, meeting_id: Id, payload: AttendanceIn) -> Status[dict[str, Any]]:
    """Record that a clinician attended (the coordinator; anyone for themselves)."""
    actor = actor_of(request)
    meeting = _meeting(actor, meeting_id)
    row = services.attendance_record(actor=actor, meeting=meeting, channel=CHANNEL, data=services.AttendanceData(
        user_id=payload.user_id, specialty=str(payload.specialty), mode=str(payload.mode),
        organization_id=organization_pk(payload.organization, "organization")))
    return Status(201, _attendance_out(row))


@router.get("/tumor-board-meetings/{id:meeting_id}/attendance", response={200: list[AttendanceOut], **READ_ERRORS})
def tumor_board_attendance_list(request: HttpRequest, meeting_id: Id) -> list[dict[str, Any]]:
    actor = actor_of(request)
    return [_attendance_out(a) for a in selectors.attendance_of(_meeting(actor, meeting_id))]


@router.post("/tumor-board-meetings/{id:meeting_id}/agenda", response={200: MeetingOut, **WRITE_ERRORS})
def tumor_board_agenda_order(request: HttpRequest, meeting_id: Id, payload: AgendaOrderIn) -> dict[str, Any]:
    """Order the agenda: every accepted case once, in the new order."""
    actor = actor_of(request)
    meeting = _meeting(actor, meeting_id)
    services.agenda_order(actor=actor, meeting=meeting, case_ids=list(payload.case_ids), channel=CHANNEL)
    return _meeting_out(actor, selectors.meeting_get_for(actor, meeting.pk))


@router.post("/tumor-board-meetings/{id:meeting_id}/start", response={200: MeetingOut, **WRITE_ERRORS})
def tumor_board_meeting_start(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    actor = actor_of(request)
    meeting = services.meeting_start(actor=actor, meeting=_meeting(actor, meeting_id), channel=CHANNEL)
    return _meeting_out(actor, meeting)


@router.post("/tumor-board-meetings/{id:meeting_id}/present", response={200: MeetingOut, **WRITE_ERRORS})
def tumor_board_meeting_present(request: HttpRequest, meeting_id: Id, payload: PresentIn) -> dict[str, Any]:
    """Presenter mode: put a case on every attendee's screen (no case: the agenda)."""
    actor = actor_of(request)
    meeting = _meeting(actor, meeting_id)
    case = _case(actor, payload.case_id) if payload.case_id else None
    meeting = services.meeting_present(actor=actor, meeting=meeting, case=case, channel=CHANNEL)
    return _meeting_out(actor, meeting)


@router.post("/tumor-board-meetings/{id:meeting_id}/close", response={200: MeetingOut, **WRITE_ERRORS})
def tumor_board_meeting_close(request: HttpRequest, meeting_id: Id, payload: CloseIn) -> dict[str, Any]:
    """Close the meeting: packets frozen, recommendations become care-plan tasks."""
    actor = actor_of(request)
    meeting = services.meeting_close(actor=actor, meeting=_meeting(actor, meeting_id), minutes=payload.minutes,
                                     channel=CHANNEL)
    return _meeting_out(actor, meeting)


# --- cases --------------------------------------------------------------------------------------------------


@router.get("/tumor-board-cases/{id:case_id}", response={200: CaseOut, **READ_ERRORS})
def tumor_board_case_get(request: HttpRequest, case_id: Id, response: HttpResponse) -> dict[str, Any]:
    """One case with its packet, the board's conclusions, recommendations and addenda."""
    actor = actor_of(request)
    case = _case(actor, case_id, audit_read=True)
    response["ETag"] = etag(case.version)
    return _case_out(case)


@router.post("/tumor-board-cases/{id:case_id}/decision", response={200: CaseOut, **WRITE_ERRORS})
def tumor_board_case_decide(request: HttpRequest, case_id: Id, payload: DecisionIn,
                            response: HttpResponse) -> dict[str, Any]:
    """The coordinator accepts (the packet is assembled), defers or declines a submitted case."""
    actor = actor_of(request)
    case = _case(actor, case_id)
    to_meeting = _meeting(actor, payload.to_meeting_id) if payload.to_meeting_id else None
    case = services.case_decide(actor=actor, case=case, decision=payload.decision, note=payload.note,
                                to_meeting=to_meeting, expected_version=expected_version(request, payload.version),
                                channel=CHANNEL)
    return _case_answer(actor, case, response)


@router.post("/tumor-board-cases/{id:case_id}/discussion", response={200: CaseOut, **WRITE_ERRORS})
def tumor_board_case_discussion(request: HttpRequest, case_id: Id, payload: DiscussionIn,
                                response: HttpResponse) -> dict[str, Any]:
    """What the board concluded: stage, guideline, trials, discussion."""
    actor = actor_of(request)
    case = _case(actor, case_id)
    data = services.DiscussionData(**payload.dict(exclude={"version"}))
    case = services.case_record_discussion(actor=actor, case=case, data=data,
                                           expected_version=expected_version(request, payload.version),
                                           channel=CHANNEL)
    return _case_answer(actor, case, response)


@router.post("/tumor-board-cases/{id:case_id}/recommendations", response={201: RecommendationOut, **CREATE_ERRORS})
def tumor_board_recommendation_create(request: HttpRequest, case_id: Id,
                                      payload: RecommendationIn) -> Status[dict[str, Any]]:
    """A recommendation of the board (kind required; dissent with its reason)."""
    actor = actor_of(request)
    case = _case(actor, case_id)
    rec = services.recommendation_add(actor=actor, case=case, channel=CHANNEL, data=services.RecommendationData(
        kind=str(payload.kind), description=payload.description, agreement=str(payload.agreement),
        dissent_reason=payload.dissent_reason, responsible_id=payload.responsible_id, due_date=payload.due_date))
    return Status(201, _rec_out(rec))


@router.post("/tumor-board-cases/{id:case_id}/summary", response={200: CaseOut, **WRITE_ERRORS})
def tumor_board_summary_save(request: HttpRequest, case_id: Id, payload: SummaryIn,
                             response: HttpResponse) -> dict[str, Any]:
    """The navigator's plain-language summary for the patient (a draft until released)."""
    actor = actor_of(request)
    case = services.summary_save(actor=actor, case=_case(actor, case_id), text=payload.summary,
                                 expected_version=expected_version(request, payload.version), channel=CHANNEL)
    return _case_answer(actor, case, response)


@router.post("/tumor-board-cases/{id:case_id}/summary/release", response={200: CaseOut, **WRITE_ERRORS})
def tumor_board_summary_release(request: HttpRequest, case_id: Id, payload: VersionIn,
                                response: HttpResponse) -> dict[str, Any]:
    """Release the summary to the patient portal (navigator or CLP)."""
    actor = actor_of(request)
    case = services.summary_release(actor=actor, case=_case(actor, case_id),
                                    expected_version=expected_version(request, payload.version), channel=CHANNEL)
    return _case_answer(actor, case, response)


@router.post("/tumor-board-cases/{id:case_id}/addenda", response={201: CaseOut, **CREATE_ERRORS})
def tumor_board_addendum_create(request: HttpRequest, case_id: Id, payload: AddendumIn,
                                response: HttpResponse) -> Status[dict[str, Any]]:
    """A correction after the meeting: the frozen record stays; the addendum follows it."""
    actor = actor_of(request)
    case = _case(actor, case_id)
    services.addendum_add(actor=actor, case=case, text=payload.text, channel=CHANNEL)
    return Status(201, _case_answer(actor, case, response))
