"""The CoC standard 2.5 report against a year counted by hand, through the services, in the selector, the JSON
API, the page and the CSV; who may see it; and the edge cases of ``rules.conference_report``.

Source of the figures: Commission on Cancer, Optimal Resources for Cancer Care (2020 Standards), standard 2.5
(Multidisciplinary Cancer Case Conference); their definitions are ``rules.conference_report``'s and
docs/tumor-boards.md's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.organisations.models import Role
from oncoliaison.patients.models import Patient
from oncoliaison.tumorboards import report, rules, selectors, services
from oncoliaison.tumorboards.models import BoardCase, Meeting

from .conftest import Board, staff

YEAR = 2025
UTC = dt.UTC


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(YEAR, month, day, hour, tzinfo=UTC)


@dataclass
class Clock:
    now: dt.datetime


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, board: Board) -> Clock:
    """The services ask ``core.clock``; the test moves it through the year (after the board fixture ran)."""
    state = Clock(at(1, 6, 8))
    monkeypatch.setattr(clock, "now", lambda: state.now)
    monkeypatch.setattr(clock, "today", lambda: state.now.date())
    return state


# (patient key, submitted by the partner hospital, prospective, stage discussed, guideline, trial)
M1_CASES = [("p2", False, True, True, True, False),     # c1
            ("p3", False, True, True, False, True),     # c2
            ("p4", False, False, False, False, False)]  # c3
M2_CASES = [("pat", True, True, True, True, True),      # c4: submitted by the partner physician
            ("p5", False, True, False, False, False)]   # c5
M3_CASES = [("p3", False, True, False, False, False),   # c6
            ("p4", False, False, True, True, False)]    # c7


@pytest.fixture
def year(board: Board, frozen: Clock) -> Board:
    """Four conferences scheduled in 2025: three held, one cancelled; seven cases discussed, one case not
    reached (deferred) and one on the cancelled agenda — neither of these two counts."""
    cast, clp = board.cast, actor_for_user(board.clp)
    lead = cast.lead
    people = {
        "rita": board.radiologist,
        "pete": staff("peter.path", lead, Role.PHYSICIAN),
        "sam": staff("sunil", lead, Role.PHYSICIAN),
        "rob": staff("robin.rad", lead, Role.PHYSICIAN),
        "onc": cast.oncologist,
        "nav": cast.navigator,
        "paula": board.partner_doc,
    }
    patients = {"pat": cast.pat, **{k: Patient.objects.create(
        organization=lead, given_name=k.upper(), family_name="Case", birth_date=dt.date(1960, 1, 1), gender="female")
        for k in ("p2", "p3", "p4", "p5")}}
    m1, m2, m3, m4 = (services.meeting_schedule(actor=clp, series=board.series, data=services.MeetingData(
        starts_at=start)) for start in (at(2, 4), at(3, 4), at(4, 1), at(5, 6)))

    def submit(meeting: Meeting, key: str, by_partner: bool, prospective: bool) -> BoardCase:
        by = people["paula"] if by_partner else people["onc"]
        case = services.case_submit(actor=actor_for_user(by), meeting=meeting, data=services.CaseData(
            patient_id=patients[key].pk, question=f"Next step for {key}?", prospective=prospective))
        return services.case_decide(actor=clp, case=case, decision="accept")

    plans = [(m1, M1_CASES, [("rita", "diagnostic_radiology"), ("pete", "pathology"), ("sam", "surgery"),
                             ("onc", "medical_oncology"), ("rob", "radiation_oncology")]),
             (m2, M2_CASES, [("rita", "diagnostic_radiology"), ("sam", "surgery"), ("onc", "medical_oncology"),
                             ("rob", "radiation_oncology"), ("paula", "medical_oncology")]),
             (m3, M3_CASES, [("pete", "pathology"), ("sam", "surgery"), ("onc", "medical_oncology"),
                             ("nav", "navigation")])]
    agendas = [[(submit(m, key, partner, pro), stage, guideline, trial) for key, partner, pro, stage, guideline, trial
                in cases] for m, cases, _ in plans]
    not_reached = submit(m2, "p2", False, True)
    on_cancelled = submit(m4, "p5", False, True)
    for (meeting, _, attendees), agenda in zip(plans, agendas, strict=True):
        frozen.now = meeting.starts_at + dt.timedelta(minutes=5)
        services.meeting_start(actor=clp, meeting=meeting)
        for who, specialty in attendees:
            services.attendance_record(actor=clp, meeting=meeting, data=services.AttendanceData(
                user_id=people[who].pk, specialty=specialty, mode="virtual" if who == "paula" else "in_person"))
        for case, stage, guideline, trial in agenda:
            services.case_record_discussion(actor=clp, case=case, data=services.DiscussionData(
                stage_discussed=stage, stage_agreed="cT2 cN0 cM0, IIA" if stage else "",
                guideline_body="NCCN" if guideline else "", guideline_name="Breast Cancer" if guideline else "",
                trial_discussed=trial))
        services.meeting_close(actor=clp, meeting=meeting)
    frozen.now = at(4, 20)
    services.meeting_cancel(actor=clp, meeting=m4, reason="Holiday")
    not_reached.refresh_from_db()
    on_cancelled.refresh_from_db()
    assert (not_reached.status, on_cancelled.status) == ("deferred", "deferred")
    return board


# The hand count of 2025 (held = M1, M2, M3; cases c1..c7):
#   scheduled 4 (M1..M4), held 3, cancelled 1 (M4); cases presented 3 + 2 + 2 = 7
#   prospective: c1 c2 c4 c5 c6 = 5/7 = 71.43 -> 71.4 %
#   stage discussed: c1 c2 c4 c7 = 4/7 = 57.14 -> 57.1 %
#   guideline discussed: c1 c4 c7 = 3/7 = 42.86 -> 42.9 %
#   trial discussed: c2 c4 = 2/7 = 28.57 -> 28.6 %
#   diagnostic radiology: M1 M2 = 2/3 = 66.7 %; pathology: M1 M3 = 2/3 = 66.7 %; surgery: M1 M2 M3 = 3/3 = 100 %;
#   medical oncology: 3/3 = 100 %; radiation oncology: M1 M2 = 2/3 = 66.7 %
#   all five required present: M1 only (M2 lacks pathology, M3 radiology and radiation oncology) = 1/3 = 33.3 %
#   conferences with a partner attendee: M2 (Paula) = 1/3 = 33.3 %; cases from the partner: c4 = 1/7 = 14.3 %
HAND_COUNT: dict[str, tuple[int, int | None, float | None]] = {
    "scheduled": (4, None, None),
    "held": (3, 4, 75.0),
    "cancelled": (1, 4, 25.0),
    "cases_presented": (7, None, None),
    "prospective": (5, 7, 71.4),
    "stage_discussed": (4, 7, 57.1),
    "guideline_discussed": (3, 7, 42.9),
    "trial_discussed": (2, 7, 28.6),
    "attendance_diagnostic_radiology": (2, 3, 66.7),
    "attendance_pathology": (2, 3, 66.7),
    "attendance_surgery": (3, 3, 100.0),
    "attendance_medical_oncology": (3, 3, 100.0),
    "attendance_radiation_oncology": (2, 3, 66.7),
    "all_required_present": (1, 3, 33.3),
    "partner_conferences": (1, 3, 33.3),
    "partner_cases": (1, 7, 14.3),
}


def test_report_for_equals_the_hand_count(year: Board) -> None:
    r = selectors.report_for(year.series, YEAR)
    assert (r.scheduled, r.held, r.cancelled, r.cases_presented) == (4, 3, 1, 7)
    shares = {"prospective": r.prospective, "stage_discussed": r.stage_discussed,
              "guideline_discussed": r.guideline_discussed, "trial_discussed": r.trial_discussed,
              "all_required_present": r.all_required_present, "partner_conferences": r.partner_conferences,
              "partner_cases": r.partner_cases,
              **{f"attendance_{k}": v for k, v in r.specialty_attendance.items()}}
    assert {k: (s.count, s.of, s.percent) for k, s in shares.items()} == {
        k: v for k, v in HAND_COUNT.items() if v[1] is not None and k not in ("held", "cancelled")}
    figures = {f.key: (f.count, f.of, f.percent) for f in report.figures_of(r, list(year.series.required_specialties))}
    assert figures == HAND_COUNT
    # The meeting the board fixture scheduled (another year, not held) counts in its own year only.
    other = selectors.report_for(year.series, year.meeting.starts_at.year)
    assert (other.scheduled, other.held, other.cases_presented, other.prospective.percent) == (1, 0, 0, None)


def test_json_endpoint_equals_the_hand_count(client, year: Board) -> None:  # type: ignore[no-untyped-def]
    client.force_login(year.clp)
    response = client.get("/api/tumor-boards/report", {"year": YEAR})
    assert response.status_code == 200
    [body] = response.json()
    assert body["series_id"] == year.series.pk and body["year"] == YEAR
    assert (body["scheduled"], body["held"], body["cancelled"], body["cases_presented"]) == (4, 3, 1, 7)
    for key, (count, of, percent) in HAND_COUNT.items():
        if of is None or key in ("held", "cancelled"):
            continue
        got = body["specialty_attendance"][key.removeprefix("attendance_")] if key.startswith("attendance_") \
            else body[key]
        assert got == {"count": count, "of": of, "percent": percent}, key


ROW = re.compile(r'<tr data-figure="([a-z_]+)"><th scope="row">[^<]*</th><td class="num">(\d+)</td>'
                 r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>')


def test_page_print_and_csv_equal_the_hand_count(client, year: Board) -> None:  # type: ignore[no-untyped-def]
    client.force_login(year.clp)
    expected = {k: (str(c), "—" if of is None else str(of), "—" if p is None else f"{p:.1f}%")
                for k, (c, of, p) in HAND_COUNT.items()}
    for name in ("report", "print"):
        response = client.get(reverse(f"tumorboards_report:{name}"), {"year": YEAR})
        assert response.status_code == 200
        html = response.content.decode()
        assert {m[0]: m[1:] for m in ROW.findall(html)} == expected
        assert html.count('role="img"') == 4 and html.count("<desc") == 4  # four charts, each described
        assert not any(text in html for text in ("Pat Patient", "P2 Case", "P3 Case", "Next step for"))
    response = client.get(reverse("tumorboards_report:export"), {"year": YEAR})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == report.CSV_HEADER and len(rows) == 1 + len(HAND_COUNT)
    assert rows[5] == [str(YEAR), "Breast tumor board", year.cast.lead.name, "Prospective cases", "5", "7", "71.4"]
    actions = list(AuditEvent.objects.filter(resource_type=report.RESOURCE_TYPE, category=selectors.CATEGORY)
                   .values_list("action", "patient_id"))
    assert actions == [(AuditAction.READ, None), (AuditAction.PRINT, None), (AuditAction.EXPORT, None)]


def test_who_may_see_the_report(client, year: Board) -> None:  # type: ignore[no-untyped-def]
    url = reverse("tumorboards_report:report")
    cast = year.cast
    for user in (cast.oncologist, year.partner_doc, cast.researcher):  # clinicians who run no series: 403
        client.force_login(user)
        assert client.get(url, {"year": YEAR}).status_code == 403
    client.force_login(cast.patient_user)
    assert client.get(url).status_code == 403
    # The program administrator sees the lead program's series; a series of another organisation (or none)
    # is the same not-found.
    client.force_login(cast.admin)
    assert client.get(url, {"year": YEAR, "series": year.series.pk}).status_code == 200
    partner_admin = staff("olga.partnerclp", cast.partner, Role.CLP)
    partner_series = services.series_create(
        actor=actor_for_user(partner_admin), organization_id=cast.partner.pk, data=services.SeriesData(
            name="Partner GI board", disease_site="gi", coordinator_id=partner_admin.pk))
    hidden = client.get(url, {"year": YEAR, "series": partner_series.pk})
    missing = client.get(url, {"year": YEAR, "series": 987654})
    assert hidden.status_code == missing.status_code == 404
    assert client.get(url, {"year": "1999x"}).status_code == 400
    # A coordinator who is not an administrator reads their own series only.
    coordinator = User.objects.get(pk=year.radiologist.pk)
    year.series.coordinator = coordinator
    year.series.save()
    client.force_login(coordinator)
    response = client.get(url, {"year": YEAR})
    assert response.status_code == 200 and [r.series.pk for r in response.context["reports"]] == [year.series.pk]


# --- rules.conference_report edge cases ---------------------------------------------------------------------

REQUIRED = ["diagnostic_radiology", "pathology"]


def test_no_meetings_gives_no_percentages() -> None:
    r = rules.conference_report([], required_specialties=REQUIRED, home_organization_ids=frozenset({1}))
    assert (r.scheduled, r.held, r.cancelled, r.cases_presented) == (0, 0, 0, 0)
    for share in (r.prospective, r.stage_discussed, r.guideline_discussed, r.trial_discussed, r.all_required_present,
                  r.partner_conferences, r.partner_cases, *r.specialty_attendance.values()):
        assert (share.count, share.of, share.percent) == (0, 0, None)
    assert set(r.specialty_attendance) == set(REQUIRED)


def test_only_cancelled_or_scheduled_meetings_count_as_scheduled_not_held() -> None:
    case = rules.CaseFacts(prospective=True, stage_discussed=True, guideline_discussed=True, trial_discussed=True)
    meetings = [rules.MeetingFacts(status="cancelled", specialties=frozenset(REQUIRED),
                                   attendee_organizations=frozenset({2})),
                rules.MeetingFacts(status="booked", specialties=frozenset(REQUIRED),
                                   attendee_organizations=frozenset({1}), cases=(case,))]
    r = rules.conference_report(meetings, required_specialties=REQUIRED, home_organization_ids=frozenset({1}))
    assert (r.scheduled, r.held, r.cancelled, r.cases_presented) == (2, 0, 1, 0)
    assert r.prospective.percent is None and r.all_required_present.percent is None
    assert r.partner_conferences.of == 0


def test_held_meeting_without_cases_or_attendance() -> None:
    held = rules.MeetingFacts(status="fulfilled", specialties=frozenset(), attendee_organizations=frozenset())
    r = rules.conference_report([held], required_specialties=REQUIRED, home_organization_ids=frozenset({1}))
    assert r.held == 1 and r.cases_presented == 0 and r.prospective.percent is None
    assert {k: v.percent for k, v in r.specialty_attendance.items()} == {s: 0.0 for s in REQUIRED}
    assert r.all_required_present.percent == 0.0 and r.partner_conferences.percent == 0.0


def test_percent_rounds_to_one_decimal() -> None:
    assert rules.Share(1, 3).percent == 33.3 and rules.Share(2, 3).percent == 66.7 and rules.Share(0, 5).percent == 0.0
