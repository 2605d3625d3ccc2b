"""Tumor-board services: the journey from submission to care-plan tasks, and every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.careplans.models import Task
from oncoliaison.core import clock
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.patients.models import Patient
from oncoliaison.tumorboards import selectors, services
from oncoliaison.tumorboards.models import BoardCase, CaseStatus, MeetingStatus, SummaryStatus

from .conftest import Board


def _submit(board: Board, patient: Patient | None = None, **kw) -> BoardCase:  # type: ignore[no-untyped-def]
    data = services.CaseData(patient_id=(patient or board.cast.pat).pk, question="Neoadjuvant therapy or surgery first?",
                             prospective=True, **kw)
    return services.case_submit(actor=actor_for_user(board.cast.oncologist), meeting=board.meeting, data=data)


def _run_meeting(board: Board, case: BoardCase) -> None:
    clp = actor_for_user(board.clp)
    case = services.case_decide(actor=clp, case=case, decision="accept")
    services.attendance_record(actor=clp, meeting=board.meeting, data=services.AttendanceData(
        user_id=board.radiologist.pk, specialty="diagnostic_radiology", mode="in_person"))
    board.meeting.starts_at = clock.now() - dt.timedelta(minutes=5)
    board.meeting.save()
    services.meeting_start(actor=clp, meeting=board.meeting)


def test_submission_needs_a_visible_patient_and_a_question(board: Board) -> None:
    with pytest.raises(NotFound):
        _submit(board, patient=Patient.objects.create(organization=board.cast.research, given_name="X",
                                                      family_name="Y", birth_date=dt.date(1970, 1, 1), gender="male"))
    with pytest.raises(ValidationFailed) as err:
        services.case_submit(actor=actor_for_user(board.cast.oncologist), meeting=board.meeting,
                             data=services.CaseData(patient_id=board.cast.pat.pk, question=" ", prospective=None))
    assert set(err.value.field_errors) == {"question", "prospective"}
    assert not BoardCase.objects.exists()


def test_outsiders_cannot_submit_or_see(board: Board) -> None:
    with pytest.raises(Forbidden):
        services.case_submit(actor=actor_for_user(board.cast.researcher), meeting=board.meeting,
                             data=services.CaseData(patient_id=board.cast.pat.pk, question="Q", prospective=True))
    case = _submit(board)
    assert selectors.case_queryset_for(actor_for_user(board.cast.researcher)).count() == 0
    assert selectors.case_queryset_for(actor_for_user(board.cast.patient_user)).count() == 0
    # The partner physician sees the shared patient's case; not the case of a patient not shared.
    assert list(selectors.case_queryset_for(actor_for_user(board.partner_doc))) == [case]


def test_partner_sees_only_cases_of_patients_shared_with_it(board: Board) -> None:
    unshared = Patient.objects.create(organization=board.cast.lead, given_name="Una", family_name="Shared",
                                      birth_date=dt.date(1950, 5, 5), gender="female")
    a, b = _submit(board), _submit(board, patient=unshared)
    clp = actor_for_user(board.clp)
    for c in (a, b):
        services.case_decide(actor=clp, case=c, decision="accept")
    partner = actor_for_user(board.partner_doc)
    assert [c.pk for c in selectors.agenda_for(partner, board.meeting)] == [a.pk]
    assert selectors.hidden_agenda_count(partner, board.meeting) == 1
    with pytest.raises(NotFound):
        selectors.case_get_for(partner, b.pk)
    assert AuditEvent.objects.filter(action="access_denied", resource_type="BoardCase").count() == 1


def test_meeting_in_the_past_is_refused(board: Board) -> None:
    with pytest.raises(ValidationFailed) as err:
        services.meeting_schedule(actor=actor_for_user(board.clp), series=board.series, data=services.MeetingData(
            starts_at=clock.now() - dt.timedelta(hours=1)))
    assert "starts_at" in err.value.field_errors


def test_video_link_is_unguessable_and_shown_to_invited_only(board: Board) -> None:
    link = board.meeting.video_link
    assert link.startswith("https://meet.jit.si/oncoliaison-")
    assert len(link.removeprefix("https://meet.jit.si/oncoliaison-")) >= 21  # 16 random bytes, base64url
    other = services.meeting_schedule(actor=actor_for_user(board.clp), series=board.series, data=services.MeetingData(
        starts_at=clock.now() + dt.timedelta(days=14), generate_video=True))
    assert other.video_link != link
    assert selectors.video_link_for(actor_for_user(board.clp), board.meeting) == link
    assert selectors.video_link_for(actor_for_user(board.partner_doc), board.meeting) == ""
    services.invite(actor=actor_for_user(board.clp), meeting=board.meeting, user_ids=[board.partner_doc.pk])
    assert selectors.video_link_for(actor_for_user(board.partner_doc), board.meeting) == link


def test_attendance_of_a_non_member_is_refused(board: Board) -> None:
    with pytest.raises(ValidationFailed):
        services.attendance_record(actor=actor_for_user(board.clp), meeting=board.meeting, data=services.AttendanceData(
            user_id=board.cast.researcher.pk, specialty="research", mode="virtual"))
    assert not board.meeting.attendance.exists()
    row = services.attendance_record(actor=actor_for_user(board.partner_doc), meeting=board.meeting,
                                     data=services.AttendanceData(user_id=board.partner_doc.pk,
                                                                  specialty="pathology", mode="virtual"))
    assert row.organization_id == board.cast.partner.pk


def test_recommendation_without_kind_is_refused_and_changes_nothing(board: Board) -> None:
    case = _submit(board)
    _run_meeting(board, case)
    with pytest.raises(ValidationFailed) as err:
        services.recommendation_add(actor=actor_for_user(board.clp), case=case, data=services.RecommendationData(
            kind="", description="Lumpectomy"))
    assert "kind" in err.value.field_errors
    assert not case.recommendations.exists()
    with pytest.raises(ValidationFailed) as err:
        services.recommendation_add(actor=actor_for_user(board.clp), case=case, data=services.RecommendationData(
            kind="surgery", description="Lumpectomy", agreement="dissent"))
    assert "dissent_reason" in err.value.field_errors


def test_journey_to_care_plan_tasks_and_frozen_packet(board: Board) -> None:
    case = _submit(board)
    clp = actor_for_user(board.clp)
    _run_meeting(board, case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.packet["question"].startswith("Neoadjuvant")
    assert case.packet["patient"]["name"] == "Pat Patient"
    services.case_record_discussion(actor=clp, case=case, data=services.DiscussionData(
        stage_discussed=True, stage_agreed="cT2 cN1 cM0, IIB", stage_edition="AJCC 8th", guideline_body="NCCN",
        guideline_name="Breast Cancer", guideline_version="4.2026", trial_discussed=True, trials="NCT01234567"))
    due = clock.today() + dt.timedelta(days=14)
    services.recommendation_add(actor=clp, case=case, data=services.RecommendationData(
        kind="systemic", description="Neoadjuvant chemotherapy", responsible_id=board.cast.oncologist.pk,
        due_date=due))
    services.recommendation_add(actor=clp, case=case, data=services.RecommendationData(
        kind="genetics", description="Germline testing", agreement="dissent", dissent_reason="Surgeon prefers later"))
    services.meeting_close(actor=clp, meeting=board.meeting, minutes="Two cases.")
    board.meeting.refresh_from_db()
    case.refresh_from_db()
    assert board.meeting.status == MeetingStatus.HELD and case.packet_frozen_at is not None
    tasks = list(Task.objects.filter(patient=board.cast.pat).order_by("pk"))
    assert [t.owner_id for t in tasks] == [board.cast.oncologist.pk, None]
    assert tasks[0].due_date == due and "Neoadjuvant chemotherapy" in tasks[0].description
    assert all(r.task_id for r in case.recommendations.all())
    frozen = dict(case.packet)
    with pytest.raises(Conflict):
        services.packet_refresh(actor=clp, case=case)
    with pytest.raises(Conflict):
        services.case_record_discussion(actor=clp, case=case, data=services.DiscussionData(stage_discussed=False))
    services.addendum_add(actor=clp, case=case, text="Stage corrected to IIA after pathology review.")
    case.refresh_from_db()
    assert case.packet == frozen and case.addenda.count() == 1
    # The navigator reviews and releases the summary; the patient then sees it.
    nav = actor_for_user(board.cast.navigator)
    with pytest.raises(Forbidden):
        services.summary_save(actor=actor_for_user(board.cast.oncologist), case=case, text="x")
    services.summary_save(actor=nav, case=case, text=services.draft_summary(case))
    assert selectors.released_summaries_for(board.cast.pat.pk) == []
    case = services.summary_release(actor=nav, case=BoardCase.objects.get(pk=case.pk))
    assert case.summary_status == SummaryStatus.RELEASED
    assert selectors.released_summaries_for(board.cast.pat.pk) == [case]


def test_deadline_passed_only_urgent(board: Board) -> None:
    board.meeting.starts_at = timezone.now() + dt.timedelta(hours=10)
    board.meeting.save()
    with pytest.raises(Conflict, match="deadline"):
        _submit(board)
    assert _submit(board, urgency="urgent").urgency == "urgent"


def test_cases_not_reached_go_back_to_the_queue(board: Board) -> None:
    case = _submit(board)
    _run_meeting(board, case)
    services.meeting_close(actor=actor_for_user(board.clp), meeting=board.meeting)
    case.refresh_from_db()
    assert case.status == CaseStatus.DEFERRED and case.packet_frozen_at is None


def test_only_the_coordinator_decides(board: Board) -> None:
    case = _submit(board)
    with pytest.raises(Forbidden):
        services.case_decide(actor=actor_for_user(board.cast.oncologist), case=case, decision="accept")
    with pytest.raises(ValidationFailed):
        services.case_decide(actor=actor_for_user(board.clp), case=case, decision="decline")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_starting_the_meeting_refreshes_the_packets(board: Board) -> None:
    from oncoliaison.oncology.models import PerformanceStatus

    case = _submit(board)
    clp = actor_for_user(board.clp)
    services.case_decide(actor=clp, case=case, decision="accept")
    assert BoardCase.objects.get(pk=case.pk).packet["performance"] == []
    PerformanceStatus.objects.create(patient=board.cast.pat, instrument="ecog", score=1, effective_at=clock.now())
    services.meeting_start(actor=clp, meeting=board.meeting)
    assert [p["score"] for p in BoardCase.objects.get(pk=case.pk).packet["performance"]] == [1]
