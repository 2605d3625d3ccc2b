"""Reads of tumor boards, always given the actor.

A series (and its meetings) is visible to the clinical staff of its organisation and of the partner
hospitals it is shared with.  A case is visible only when its meeting is and its patient is
(``patients.selectors.patient_access_q``): a partner attendee sees the cases of patients shared with their
organisation and no others, even on the same agenda.  "Missing" and "not yours" look the same."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Q, QuerySet

from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.core.roles import Role
from oncoliaison.organisations.models import Membership
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_access_q

from . import rules
from .models import (
    Attendance,
    BoardCase,
    BoardNotice,
    CaseStatus,
    ConferenceSeries,
    Invitation,
    Meeting,
    Recommendation,
    SummaryStatus,
)

CATEGORY = "tumor_board"
ON_AGENDA = (CaseStatus.ACCEPTED, CaseStatus.DISCUSSED)


def _series_q(actor: Actor, path: str = "") -> Q | None:
    orgs = actor.clinical_organization_ids
    if not orgs or actor.kind not in {"staff", "system"}:
        return None
    p = f"{path}__" if path else ""
    return Q(**{f"{p}organization_id__in": orgs}) | Q(**{f"{p}shared_with__in": orgs})


def series_queryset_for(actor: Actor) -> QuerySet[ConferenceSeries]:
    if actor.is_system and not actor.allows("Appointment", "r"):
        return ConferenceSeries.objects.none()
    q = _series_q(actor)
    if q is None:
        return ConferenceSeries.objects.none()
    return ConferenceSeries.objects.filter(pk__in=ConferenceSeries.objects.filter(q).values("pk"))


def series_get_for(actor: Actor, pk: object) -> ConferenceSeries:
    return get_visible_or_404(series_queryset_for(actor).select_related("organization", "coordinator"), pk)


def may_coordinate(actor: Actor, series: ConferenceSeries) -> bool:
    """The series' coordinator, or the CLP of its organisation, runs its agenda and its meetings."""
    if actor.is_system:
        return series.organization_id == actor.client_organization_id and actor.allows("Appointment", "u")
    return actor.user_id == series.coordinator_id or Role.CLP in actor.roles_in(series.organization_id)


def may_manage_series(actor: Actor, organization_id: int) -> bool:
    """The CLP and the program administrator set up the conference series of their organisation."""
    if actor.is_system:
        return organization_id == actor.client_organization_id and actor.allows("Appointment", "c")
    return organization_id in actor.admin_organization_ids()


def meeting_queryset_for(actor: Actor) -> QuerySet[Meeting]:
    return Meeting.objects.filter(series__in=series_queryset_for(actor).values("pk"))


def meeting_get_for(actor: Actor, pk: object) -> Meeting:
    return get_visible_or_404(meeting_queryset_for(actor).select_related("series", "series__organization",
                                                                          "series__coordinator"), pk)


def meetings_of(actor: Actor, series: ConferenceSeries, *, year: int | None = None) -> QuerySet[Meeting]:
    qs = meeting_queryset_for(actor).filter(series=series)
    if year is not None:
        qs = qs.filter(starts_at__year=year)
    return qs


def upcoming_meetings_for(actor: Actor, *, now: dt.datetime, limit: int = 20) -> list[Meeting]:
    return list(meeting_queryset_for(actor).filter(starts_at__gte=now - dt.timedelta(hours=12))
                .exclude(status__in=["fulfilled", "cancelled"]).select_related("series").order_by("starts_at")[:limit])


def case_queryset_for(actor: Actor) -> QuerySet[BoardCase]:
    if actor.is_system and not actor.allows("Composition", "r"):
        return BoardCase.objects.none()
    patient_q = patient_access_q(actor, "patient")
    if patient_q is None or actor.kind not in {"staff", "system"}:
        return BoardCase.objects.none()
    return BoardCase.objects.filter(patient_q, meeting__in=meeting_queryset_for(actor).values("pk"))


def case_get_for(actor: Actor, pk: object, *, channel: str = "web", audit_read: bool = True) -> BoardCase:
    """A case the actor may see (NotFound for missing and not visible alike); the read is audited."""
    try:
        case = get_visible_or_404(case_queryset_for(actor).select_related(
            "patient", "patient__organization", "meeting", "meeting__series", "submitted_by", "presenter"), pk)
    except NotFound:
        audit.log_refused(actor, category=CATEGORY, resource_type="BoardCase", resource_id=str(pk)[:64],
                          patient_id=owner_patient_id(BoardCase, pk), channel=channel)
        raise
    if audit_read:
        audit_disclosed(actor, [case], channel=channel, action=AuditAction.READ)
    return case


def audit_disclosed(actor: Actor, cases: Sequence[BoardCase], *, channel: str,
                    action: str = AuditAction.SEARCH) -> None:
    """The audit of cases a door disclosed, the same for every door: one case read is a READ of that case; a
    list is a SEARCH row per patient whose cases it showed."""
    if action == AuditAction.READ:
        for case in cases:
            audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="BoardCase", resource_id=case.pk,
                      patient_id=case.patient_id, channel=channel)
        return
    audit.log_patients_read(actor, [c.patient_id for c in cases], category=CATEGORY, resource_type="BoardCase",
                            action=action, channel=channel)


def _audited(actor: Actor, cases: list[BoardCase], channel: str) -> list[BoardCase]:
    audit_disclosed(actor, cases, channel=channel)
    return cases


def discussed_case_queryset_for(actor: Actor) -> QuerySet[BoardCase]:
    """The cases the board has discussed (what it concluded is a record of the patient), visible to the actor."""
    return case_queryset_for(actor).filter(status=CaseStatus.DISCUSSED)


def recommendation_queryset_for(actor: Actor) -> QuerySet[Recommendation]:
    """The recommendations of discussed cases the actor may see (a partner sees those of shared patients)."""
    if actor.is_system and not actor.allows("ServiceRequest", "r"):
        return Recommendation.objects.none()
    return Recommendation.objects.filter(case__in=discussed_case_queryset_for(actor).values("pk"))


def agenda_for(actor: Actor, meeting: Meeting, *, channel: str = "web") -> list[BoardCase]:
    """The cases on the meeting's agenda that the actor may see, in agenda order (one audit row per patient)."""
    cases = list(case_queryset_for(actor).filter(meeting=meeting, status__in=ON_AGENDA)
                 .select_related("patient", "submitted_by", "presenter").order_by("agenda_position", "submitted_at"))
    return _audited(actor, cases, channel)


def hidden_agenda_count(actor: Actor, meeting: Meeting) -> int:
    """How many cases of the agenda are of patients the actor may not see (shown as a number, never a name)."""
    visible = case_queryset_for(actor).filter(meeting=meeting, status__in=ON_AGENDA)
    return meeting.cases.filter(status__in=ON_AGENDA).exclude(pk__in=visible.values("pk")).count()


def submission_queue_for(actor: Actor, meeting: Meeting, *, channel: str = "web") -> list[BoardCase]:
    """Submitted and deferred cases awaiting the coordinator's decision for this meeting."""
    if not may_coordinate(actor, meeting.series):
        raise Forbidden("Only the coordinator of this series decides which cases are discussed.")
    cases = list(case_queryset_for(actor).filter(meeting=meeting, status__in=[CaseStatus.SUBMITTED,
                                                                                CaseStatus.DEFERRED])
                 .select_related("patient", "submitted_by").order_by("-urgency", "submitted_at"))
    return _audited(actor, cases, channel)


def cases_for_patient(actor: Actor, patient: Patient) -> list[BoardCase]:
    """A patient's board cases (from ``access_patient``, which audited the read), newest meeting first."""
    return list(case_queryset_for(actor).filter(patient=patient).select_related("meeting", "meeting__series")
                .order_by("-meeting__starts_at", "-id"))


def board_discussions(actor: Actor, patient: Patient) -> dict[str, object]:
    """What a patient's record page shows of tumor boards (staff only; ``board_cases`` None for others)."""
    if actor.kind != "staff" or not actor.patient_care_organization_ids:
        return {"board_cases": None, "may_submit_to_board": False}
    return {"board_cases": cases_for_patient(actor, patient),
            "may_submit_to_board": meeting_queryset_for(actor).filter(status="booked").exists()}


def released_summaries_for(patient_id: int) -> list[BoardCase]:
    """What the portal shows the patient (and their proxy): summaries the navigator released."""
    return list(BoardCase.objects.filter(patient_id=patient_id, summary_status=SummaryStatus.RELEASED)
                .select_related("meeting", "meeting__series").order_by("-summary_released_at", "-id"))


def is_invited(actor: Actor, meeting: Meeting) -> bool:
    return is_user_invited(actor.user_id, meeting)


def is_user_invited(user_id: int | None, meeting: Meeting) -> bool:
    """The series' coordinator and the people invited to this meeting."""
    if user_id is None:
        return False
    if user_id == meeting.series.coordinator_id:
        return True
    return Invitation.objects.filter(meeting=meeting, user_id=user_id).exists()


def video_link_for(actor: Actor, meeting: Meeting) -> str:
    """The meeting's video link for an invited person; '' for anyone else (or when there is none)."""
    return video_link_for_user(actor.user_id, meeting)


def video_link_for_user(user_id: int | None, meeting: Meeting) -> str:
    """``video_link_for`` of the person with this id (a row read for them carries only their id)."""
    return meeting.video_link if meeting.video_link and is_user_invited(user_id, meeting) else ""


def attendance_of(meeting: Meeting) -> list[Attendance]:
    return list(meeting.attendance.select_related("user", "organization").order_by("joined_at", "id"))


def attendee_organizations(series: ConferenceSeries) -> list[int]:
    """The organisations whose members may attend: the series' own and the partners it is shared with."""
    return [series.organization_id, *series.shared_with.values_list("pk", flat=True)]


def attendee_candidates(series: ConferenceSeries) -> QuerySet[Membership]:
    """Active clinical memberships of the organisations that take part in the series."""
    return (Membership.objects.filter(organization_id__in=attendee_organizations(series), active=True,
                                      user__is_active=True, user__kind="staff")
            .exclude(role__in=[Role.RESEARCHER, Role.STAKEHOLDER_LIAISON])
            .select_related("user", "organization").order_by("user__last_name", "user__first_name", "pk"))


def notices_for(actor: Actor, *, unread_only: bool = False, limit: int = 50) -> list[BoardNotice]:
    if actor.user_id is None:
        return []
    qs = BoardNotice.objects.filter(user_id=actor.user_id, meeting__in=meeting_queryset_for(actor).values("pk"))
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.select_related("meeting", "meeting__series")[:limit])


# --- the CoC standard 2.5 report ---------------------------------------------------------------------------


def report_series_for(actor: Actor) -> QuerySet[ConferenceSeries]:
    """Series whose report the actor may read: those of organisations where they are CLP, program
    administrator, or the series' coordinator.  The report holds counts only, no patient data."""
    if actor.is_system:
        if actor.client_organization_id is None:
            return ConferenceSeries.objects.none()
        return series_queryset_for(actor).filter(organization_id=actor.client_organization_id)
    admin = actor.admin_organization_ids()
    return ConferenceSeries.objects.filter(Q(organization_id__in=admin) | Q(coordinator_id=actor.user_id))


def report_for(series: ConferenceSeries, year: int) -> rules.ConferenceReport:
    """The CoC 2.5 figures of one series for one calendar year (meetings by their start date)."""
    meetings = list(Meeting.objects.filter(series=series, starts_at__year=year).values_list("pk", "status"))
    ids = [pk for pk, _ in meetings]
    specialties: dict[int, set[str]] = defaultdict(set)
    orgs: dict[int, set[int]] = defaultdict(set)
    for meeting_id, specialty, org_id in Attendance.objects.filter(meeting_id__in=ids).values_list(
            "meeting_id", "specialty", "organization_id"):
        specialties[meeting_id].add(specialty)
        orgs[meeting_id].add(org_id)
    cases: dict[int, list[rules.CaseFacts]] = defaultdict(list)
    for row in BoardCase.objects.filter(meeting_id__in=ids, status=CaseStatus.DISCUSSED).values(
            "meeting_id", "prospective", "stage_discussed", "guideline_body", "trial_discussed", "organization_id"):
        cases[row["meeting_id"]].append(rules.CaseFacts(
            prospective=row["prospective"], stage_discussed=row["stage_discussed"],
            guideline_discussed=bool(row["guideline_body"]), trial_discussed=row["trial_discussed"],
            from_partner=row["organization_id"] != series.organization_id))
    facts = [rules.MeetingFacts(status=status, specialties=frozenset(specialties[pk]),
                                attendee_organizations=frozenset(orgs[pk]), cases=tuple(cases[pk]))
             for pk, status in meetings]
    return rules.conference_report(facts, required_specialties=list(series.required_specialties),
                                   home_organization_ids=frozenset({series.organization_id}))
