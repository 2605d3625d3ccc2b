"""Demo tumor boards (called from demo.seed): a year of conferences of the lead program up to the demo's
today — a weekly thoracic board and an every-other-week breast board shared with St. Brendan Regional —
and the next few meetings with cases submitted and accepted, so the coordinator's pages and the CoC 2.5
report have something to show.  Synthetic only: the patients are the demo's generated patients.

The demo writes history: the services refuse a meeting, a submission or a discussion in the past (a
meeting cannot be scheduled before now), so the past year's meetings, cases, attendance and
recommendations are written directly to the tables, as they would stand had the services run at the time.
The upcoming meetings, their cases and the coordinator's decisions go through the services, like real use;
so do the care-plan tasks of the latest meetings' recommendations.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core.actor import Actor
from oncoliaison.oncology.models import CancerCondition
from oncoliaison.organisations.models import Membership, Organization, Role
from oncoliaison.patients.models import ConsentKind, ConsentStatus, Patient

from . import packet, services
from .models import (
    Attendance,
    AttendanceMode,
    BoardCase,
    CaseStatus,
    ConferenceSeries,
    Meeting,
    MeetingStatus,
    Recommendation,
    RecommendationKind,
    VideoMode,
)

BREAST, LUNG = "254837009", "254637007"  # SNOMED CT codes of the demo's breast and lung cancers (oncology.codes)

# Board members the rest of the demo has no use for (they do not sign in to the demo).
BOARD_MEMBERS = [("radiologist", "Helen", "Ito", "Diagnostic radiologist"),
                 ("pathologist", "Victor", "Mensah", "Pathologist")]

# (username, specialty, chance of missing a conference) — some required specialties are sometimes absent.
THORACIC_TEAM = [("radiologist", "diagnostic_radiology", 0.08), ("pathologist", "pathology", 0.12),
                 ("surgeon", "surgery", 0.06), ("oncologist", "medical_oncology", 0.03),
                 ("radonc", "radiation_oncology", 0.15), ("navigator", "navigation", 0.1),
                 ("socialworker", "social_work", 0.5)]
BREAST_TEAM = [("radiologist", "diagnostic_radiology", 0.1), ("pathologist", "pathology", 0.1),
               ("clp", "surgery", 0.05), ("oncologist", "medical_oncology", 0.05),
               ("radonc", "radiation_oncology", 0.2), ("navigator2", "navigation", 0.1)]

QUESTIONS = {
    "thoracic": ["Resectable after mediastinal staging, or definitive chemoradiation?",
                 "Adjuvant therapy after lobectomy given the nodal findings?",
                 "New nodule on surveillance CT: biopsy or follow-up imaging?",
                 "Targeted therapy first given the molecular results?"],
    "breast": ["Neoadjuvant systemic therapy or surgery first?",
               "Breast conservation or mastectomy, and is radiation needed afterwards?",
               "Adjuvant endocrine therapy alone, or add chemotherapy?",
               "Genetic testing before surgical planning?"],
}
GUIDELINES = {"thoracic": "Non-Small Cell Lung Cancer", "breast": "Breast Cancer"}
RECOMMENDATIONS = {
    "thoracic": [(RecommendationKind.SURGERY, "Lobectomy with mediastinal lymph node dissection"),
                 (RecommendationKind.SYSTEMIC, "Platinum-based chemotherapy with immunotherapy"),
                 (RecommendationKind.RADIATION, "Definitive concurrent chemoradiation"),
                 (RecommendationKind.WORKUP, "PET-CT and EBUS staging before a decision"),
                 (RecommendationKind.SURVEILLANCE, "CT chest in three months"),
                 (RecommendationKind.TRIAL, "Screen for the open institutional lung study")],
    "breast": [(RecommendationKind.SURGERY, "Lumpectomy with sentinel node biopsy"),
               (RecommendationKind.SYSTEMIC, "Neoadjuvant chemotherapy, then reassess"),
               (RecommendationKind.RADIATION, "Whole-breast radiation after surgery"),
               (RecommendationKind.GENETICS, "Germline genetic counselling and testing"),
               (RecommendationKind.SUPPORTIVE, "Referral to supportive care for symptom management"),
               (RecommendationKind.TRIAL, "Screen for the open institutional breast study")],
}
# How often the board discussed stage, a guideline and trials (varying, realistic rates; demo figures only).
RATES = {"thoracic": (0.9, 0.8, 0.35), "breast": (0.82, 0.7, 0.22)}


@dataclass
class Board:
    series: ConferenceSeries
    site: str
    team: list[tuple[str, str, float]]
    pool: list[Patient]
    partner_pool: list[Patient]
    weekday: int
    hour: int
    every_weeks: int


def _board_members(lead: Organization, staff: dict[str, User]) -> dict[str, User]:
    people = dict(staff)
    for username, given, family, title in BOARD_MEMBERS:
        user = User(username=username, first_name=given, last_name=family, kind=UserKind.STAFF,
                    email=f"{username}@{lead.slug}.example.org")
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, organization=lead, role=Role.PHYSICIAN, title=title)
        people[username] = user
    return people


def _patients_with(lead: Organization, code: str) -> list[Patient]:
    ids = CancerCondition.objects.filter(patient__organization=lead, code=code).values_list("patient_id", flat=True)
    return list(Patient.objects.filter(pk__in=ids).order_by("pk"))


def _starts(board: Board, today: dt.date, tz: dt.tzinfo) -> list[dt.datetime]:
    """The series' meetings from a year before today to four weeks after, on its weekday and hour."""
    first = today - dt.timedelta(days=364)
    first += dt.timedelta(days=(board.weekday - first.weekday()) % 7)
    out, day = [], first
    while day <= today + dt.timedelta(days=28):
        out.append(dt.datetime.combine(day, dt.time(board.hour), tzinfo=tz))
        day += dt.timedelta(weeks=board.every_weeks)
    return out


def _holiday(day: dt.date) -> bool:
    """Holiday weeks without a conference (the demo's cancelled meetings)."""
    return (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2) or (day.month == 7 and day.day <= 7) \
        or (day.month == 11 and 22 <= day.day <= 28)


class History:
    """Writes one past meeting as it stands after the services would have run (see the module's note)."""

    def __init__(self, rng: random.Random, people: dict[str, User], partner: Organization) -> None:
        self.rng, self.people, self.partner = rng, people, partner
        self.partner_rng = random.Random(rng.getrandbits(32))  # noqa: S311 - demo data: the partner's own stream
        self.packets: dict[int, dict[str, Any]] = {}
        self.stages = dict(CancerCondition.objects.filter(category="primary").values_list("patient_id", "stage_group"))

    def packet_of(self, actor: Actor, case: BoardCase) -> dict[str, Any]:
        """The packet of the patient's record, assembled once per patient (the demo record does not change)."""
        if case.patient_id not in self.packets:
            self.packets[case.patient_id] = packet.assemble(actor, case, channel="demo")
        return {**self.packets[case.patient_id], "question": case.question, "prospective": case.prospective}

    def meeting(self, board: Board, start: dt.datetime, coordinator: Actor) -> None:
        rng, series = self.rng, board.series
        meeting = Meeting.objects.create(
            series=series, starts_at=start, location=series.default_location, created_by=series.coordinator,
            video_mode=VideoMode.GENERATED if board.partner_pool else VideoMode.NONE,
            video_link=services.generated_room_link() if board.partner_pool else "")
        if _holiday(start.date()):
            Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.CANCELLED, cancel_reason="Holiday week")
            return
        held = start + dt.timedelta(minutes=meeting.duration_minutes)
        Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.HELD, held_at=held,
                                                     minutes="Cases discussed as recorded on each case.")
        rows = [Attendance(meeting=meeting, user=self.people[u], organization_id=series.organization_id,
                           specialty=specialty, mode=AttendanceMode.VIRTUAL if rng.random() < 0.2
                           else AttendanceMode.IN_PERSON, joined_at=start + dt.timedelta(minutes=rng.randint(0, 8)))
                for u, specialty, absent in board.team if rng.random() >= absent]
        if board.partner_pool and self.partner_rng.random() < 0.45:
            rows.append(Attendance(meeting=meeting, user=self.people["partnerdoc"], organization=self.partner,
                                   specialty="medical_oncology", mode=AttendanceMode.VIRTUAL, joined_at=start))
        Attendance.objects.bulk_create(rows)
        patients = rng.sample(board.pool, k=min(len(board.pool), rng.randint(2, 3)))
        if board.partner_pool and rng.random() < 0.25:
            patients.append(rng.choice(board.partner_pool))
        for position, patient in enumerate(dict.fromkeys(patients), start=1):
            self.case(board, meeting, patient, position, held, coordinator)

    def case(self, board: Board, meeting: Meeting, patient: Patient, position: int, held: dt.datetime,
             coordinator: Actor) -> None:
        rng, site = self.rng, board.site
        from_partner = patient.organization_id == self.partner.pk
        by = self.people["partnerdoc" if from_partner else rng.choice(["oncologist", "surgeon", "radonc"])]
        stage_rate, guideline_rate, trial_rate = RATES[site]
        stage, guideline, trial = (rng.random() < stage_rate, rng.random() < guideline_rate,
                                   rng.random() < trial_rate)
        start = meeting.starts_at
        case = BoardCase(
            meeting=meeting, patient=patient, organization_id=patient.organization_id, submitted_by=by,
            submitted_at=start - dt.timedelta(days=rng.randint(3, 8)), question=rng.choice(QUESTIONS[site]),
            prospective=rng.random() < 0.86, presenter=by, status=CaseStatus.DISCUSSED, agenda_position=position,
            packet_assembled_at=start - dt.timedelta(days=1), packet_frozen_at=held,
            stage_discussed=stage, stage_agreed=f"Stage {self.stages.get(patient.pk) or 'II'}" if stage else "",
            stage_edition="AJCC 8th edition" if stage else "",
            guideline_body="NCCN" if guideline else "", guideline_name=GUIDELINES[site] if guideline else "",
            guideline_version=f"{rng.randint(1, 5)}.{start.year}" if guideline else "",
            trial_discussed=trial, trials="Open institutional study (demo)" if trial else "",
            discussion="Imaging and pathology reviewed with the team.",
            discussed_at=start + dt.timedelta(minutes=10 * position))
        case.packet = self.packet_of(coordinator, case)
        case.save()
        picks = rng.sample(RECOMMENDATIONS[site], k=rng.randint(1, 2))
        Recommendation.objects.bulk_create([Recommendation(
            case=case, patient=patient, kind=kind, description=text, responsible=by,
            created_by=board.series.coordinator) for kind, text in picks])


def _upcoming(board: Board, starts: list[dt.datetime], actor: Actor, people: dict[str, User],
              rng: random.Random) -> None:
    """The next meetings through the services: scheduled, invitations, cases submitted, most accepted."""
    for n, start in enumerate(starts):
        meeting = services.meeting_schedule(actor=actor, series=board.series, data=services.MeetingData(
            starts_at=start, generate_video=bool(board.partner_pool)))
        if n == 0:  # the next meeting's team is invited (they see its video link)
            services.invite(actor=actor, meeting=meeting, user_ids=[people[u].pk for u, _, _ in board.team]
                            + ([people["partnerdoc"].pk] if board.partner_pool else []))
        if timezone.now() > start - dt.timedelta(hours=board.series.submission_deadline_hours):
            continue  # the deadline has passed: nothing more to submit
        for i, patient in enumerate(rng.sample(board.pool, k=min(len(board.pool), 3 - min(n, 1)))):
            submitter = actor_for_user(people["oncologist" if i % 2 == 0 else "surgeon"])
            case = services.case_submit(actor=submitter, meeting=meeting, data=services.CaseData(
                patient_id=patient.pk, question=rng.choice(QUESTIONS[board.site]), prospective=i != 2))
            if n == 0 or i == 0:
                services.case_decide(actor=actor, case=case, decision="accept")


@transaction.atomic  # one commit for a few thousand rows keeps seed-demo fast on SQLite
def seed_tumor_boards(rng: random.Random, *, lead: Organization, partner: Organization,
                      staff: dict[str, User]) -> dict[str, int]:
    """The two demo boards, a year of their history and their next meetings; returns counts."""
    people = _board_members(lead, staff)
    clp = actor_for_user(people["clp"])
    tz, now, today = timezone.get_current_timezone(), timezone.now(), timezone.localdate()
    lead_patients = list(Patient.objects.filter(organization=lead).order_by("pk"))
    shared = list(Patient.objects.filter(organization=partner, consents__kind=ConsentKind.DATA_SHARING,
                                         consents__status=ConsentStatus.ACTIVE,
                                         consents__grantee_organization=lead).distinct().order_by("pk"))

    def pool(code: str) -> list[Patient]:  # the site's patients, topped up so every meeting has cases
        own = _patients_with(lead, code)
        return own + [p for p in lead_patients if p not in own][:max(0, 6 - len(own))]

    thoracic = services.series_create(actor=clp, organization_id=lead.pk, data=services.SeriesData(
        name="Thoracic tumor board", disease_site="thoracic", coordinator_id=people["navigator"].pk,
        default_location="Conference room 3", policy="Weekly; prospective cases; CoC standard 2.5."))
    breast = services.series_create(actor=clp, organization_id=lead.pk, data=services.SeriesData(
        name="Breast tumor board", disease_site="breast", coordinator_id=people["clp"].pk, recurrence="biweekly",
        default_location="Auditorium B", shared_with_ids=[partner.pk], submission_deadline_hours=72,
        policy="Every other week, shared with St. Brendan Regional by video; CoC standard 2.5."))
    boards = [Board(thoracic, "thoracic", THORACIC_TEAM, pool(LUNG), [], 1, 7, 1),
              Board(breast, "breast", BREAST_TEAM, pool(BREAST), shared, 3, 12, 2)]
    portal = Patient.objects.filter(organization=lead, user__username="patient").first()
    if portal is not None and not any(portal in b.pool for b in boards):
        boards[0].pool.append(portal)  # the portal's demo patient has a board discussion to read
    history = History(rng, people, partner)
    for board in boards:
        coordinator = actor_for_user(board.series.coordinator)
        starts = _starts(board, today, tz)
        for start in (s for s in starts if s < now):
            history.meeting(board, start, coordinator)
        _upcoming(board, [s for s in starts if s >= now + dt.timedelta(hours=1)], coordinator, people, rng)
        # The latest held meeting's recommendations became care-plan tasks (through the services).
        last = Meeting.objects.filter(series=board.series, status=MeetingStatus.HELD).order_by("-starts_at").first()
        for case in BoardCase.objects.filter(meeting=last).select_related("patient", "meeting__series"):
            if case.organization_id == lead.pk:
                services.recommendations_to_tasks(actor=coordinator, case=case, channel="demo")
    _release_summary(people)
    return {"meetings": Meeting.objects.count(), "cases": BoardCase.objects.count()}


def _release_summary(people: dict[str, User]) -> None:
    """The demo patient (the portal log-in) was discussed, and the navigator released the summary."""
    case = (BoardCase.objects.filter(patient__user__username="patient", status=CaseStatus.DISCUSSED)
            .select_related("patient", "meeting__series").order_by("-meeting__starts_at").first())
    if case is None:
        return
    navigator = actor_for_user(people["navigator"])
    case = services.summary_save(actor=navigator, case=case, text=services.draft_summary(case), channel="demo")
    services.summary_release(actor=navigator, case=case, channel="demo")
