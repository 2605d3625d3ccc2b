"""Tumor-board pages: the coordinator's, presenter's and attendee's journey, and what others may not see."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.careplans.models import Task
from oncoliaison.core import clock
from oncoliaison.core.models import AuditEvent
from oncoliaison.tumorboards.models import BoardCase, CaseStatus, MeetingStatus, SummaryStatus

from .conftest import Board


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_journey_through_the_pages(board: Board) -> None:
    onc, clp = _client(board.cast.oncologist), _client(board.clp)
    pat = board.cast.pat
    page = onc.get(reverse("tumorboards:submit", args=[pat.pk]))
    assert page.status_code == 200 and "Breast tumor board" in page.content.decode()
    r = onc.post(reverse("tumorboards:submit", args=[pat.pk]), {
        "meeting": board.meeting.pk, "question": "Surgery first?", "prospective": "true", "urgency": "routine",
        "requested_attendees": [board.radiologist.pk], "att1_kind": "imaging", "att1_title": "MRI breast",
        "att1_date": "2026-11-20"})
    case = BoardCase.objects.get()
    assert r.status_code == 302 and case.attachments[0]["title"] == "MRI breast"
    # The coordinator accepts it from the meeting page; the packet is assembled.
    meeting_url = reverse("tumorboards:meeting", args=[board.meeting.pk])
    assert "Surgery first?" in clp.get(meeting_url).content.decode()
    clp.post(reverse("tumorboards:case_decide", args=[case.pk]), {"decision": "accept", "version": case.version,
                                                                    "next": "meeting"})
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.packet
    board.meeting.starts_at = clock.now() - dt.timedelta(minutes=1)
    board.meeting.save()
    clp.post(reverse("tumorboards:meeting_state", args=[board.meeting.pk]), {"action": "start"})
    clp.post(reverse("tumorboards:present_goto", args=[board.meeting.pk]), {"case": case.pk})
    board.meeting.refresh_from_db()
    assert board.meeting.current_case_id == case.pk
    # An attendee's screen follows: the poll answers the case panel, then 204 until the presenter moves.
    partner = _client(board.partner_doc)
    current = reverse("tumorboards:present_current", args=[board.meeting.pk])
    first = partner.get(current, {"step": 0})
    assert first.status_code == 200 and "Surgery first?" in first.content.decode()
    step = int(re.search(rb'data-step="(\d+)"', first.content).group(1))  # type: ignore[union-attr]
    assert partner.get(current, {"step": step}).status_code == 204
    join = reverse("tumorboards:meeting_join", args=[board.meeting.pk])
    partner.post(join, {"specialty": "pathology", "mode": "virtual"})  # not invited: no video link, no video
    assert not board.meeting.attendance.exists()
    partner.post(join, {"specialty": "pathology", "mode": "in_person"})
    assert board.meeting.attendance.filter(user=board.partner_doc, mode="in_person").exists()
    # The board's conclusions and a recommendation, recorded in presenter mode.
    r = clp.post(reverse("tumorboards:case_discussion", args=[case.pk]), {
        f"d{case.pk}-stage_discussed": "on", f"d{case.pk}-stage_agreed": "cT1 cN0 cM0, IA",
        f"d{case.pk}-guideline_body": "NCCN", f"d{case.pk}-version": case.version, "next": "present"})
    assert r.status_code == 302 and r["Location"].endswith("/present/")
    clp.post(reverse("tumorboards:case_recommendation", args=[case.pk]), {
        f"r{case.pk}-kind": "surgery", f"r{case.pk}-description": "Lumpectomy with sentinel node biopsy",
        f"r{case.pk}-agreement": "consensus", f"r{case.pk}-responsible": board.cast.oncologist.pk})
    clp.post(reverse("tumorboards:meeting_state", args=[board.meeting.pk]), {"action": "close", "minutes": "One case."})
    board.meeting.refresh_from_db()
    assert board.meeting.status == MeetingStatus.HELD
    assert Task.objects.filter(patient=pat, description__contains="Lumpectomy").exists()
    # The navigator releases the summary; the patient reads it in the portal.
    nav = _client(board.cast.navigator)
    case.refresh_from_db()
    nav.post(reverse("tumorboards:case_summary", args=[case.pk]), {
        "summary": "Your team recommends surgery.", "action": "release", "version": case.version})
    case.refresh_from_db()
    assert case.summary_status == SummaryStatus.RELEASED
    minutes = clp.get(reverse("tumorboards:minutes", args=[board.meeting.pk])).content.decode()
    assert "Lumpectomy" in minutes and "frozen" in minutes


def test_recommendation_without_kind_shows_an_error_and_changes_nothing(board: Board) -> None:
    clp = _client(board.clp)
    case = BoardCase.objects.create(meeting=board.meeting, patient=board.cast.pat, organization=board.cast.lead,
                                    submitted_by=board.cast.oncologist, submitted_at=clock.now(), question="Q",
                                    prospective=True, status=CaseStatus.ACCEPTED)
    board.meeting.status = MeetingStatus.IN_PROGRESS
    board.meeting.save()
    r = clp.post(reverse("tumorboards:case_recommendation", args=[case.pk]),
                 {f"r{case.pk}-description": "Something"}, follow=True)
    assert "not valid" in r.content.decode() and not case.recommendations.exists()


@pytest.mark.parametrize("name", ["tumorboards:series", "tumorboards:meeting", "tumorboards:present"])
def test_other_organisations_series_and_meetings_look_missing(board: Board, name: str) -> None:
    board.series.shared_with.clear()
    outsider = _client(board.cast.outsider)
    pk = board.series.pk if name == "tumorboards:series" else board.meeting.pk
    hidden, missing = outsider.get(reverse(name, args=[pk])), outsider.get(reverse(name, args=[987654]))
    assert hidden.status_code == missing.status_code == 404


def test_patients_and_researchers_are_refused(board: Board) -> None:
    for user in (board.cast.patient_user, board.cast.researcher):
        assert _client(user).get(reverse("tumorboards:home")).status_code == 403


def test_agenda_shows_a_partner_only_shared_patients(board: Board) -> None:
    from oncoliaison.patients.models import Patient

    unshared = Patient.objects.create(organization=board.cast.lead, given_name="Hidden", family_name="Person",
                                      birth_date=dt.date(1949, 1, 1), gender="male")
    for p in (board.cast.pat, unshared):
        BoardCase.objects.create(meeting=board.meeting, patient=p, organization=board.cast.lead,
                                 submitted_by=board.cast.oncologist, submitted_at=clock.now(), question=f"Q {p.pk}",
                                 prospective=True, status=CaseStatus.ACCEPTED, agenda_position=p.pk)
    page = _client(board.partner_doc).get(reverse("tumorboards:meeting", args=[board.meeting.pk])).content.decode()
    assert "Pat Patient" in page and "Hidden Person" not in page and "1 more case" in page
    assert AuditEvent.objects.filter(action="search", resource_type="BoardCase", patient_id=unshared.pk).count() == 0


def test_following_the_presenter_is_not_activity(board: Board) -> None:
    """An attendee's screen polls every 2 s: that must not keep an unattended session signed in."""
    from django.contrib.sessions.models import Session

    partner = _client(board.partner_doc)
    url = reverse("tumorboards:present_current", args=[board.meeting.pk])
    partner.get(reverse("tumorboards:meeting", args=[board.meeting.pk]))
    expiry = Session.objects.get().expire_date
    assert partner.get(url, {"step": -1}, headers={"X-Background-Refresh": "1", "HX-Request": "true"}).status_code == 200
    assert Session.objects.get().expire_date == expiry
    partner.get(url, {"step": 0})
    assert Session.objects.get().expire_date > expiry
