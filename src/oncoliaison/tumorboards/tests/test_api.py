"""The tumor-board JSON API, as outside systems and the pages' JavaScript use it."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.careplans.models import Task
from oncoliaison.core import clock
from oncoliaison.core.models import AuditEvent
from oncoliaison.tumorboards.models import BoardCase

from .conftest import Board


def _session(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _bearer(board: Board, scopes: str) -> Client:
    issued = api_client_create(organization=board.cast.lead, scopes=scopes)
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_series_meeting_case_attendance_recommendation_and_report(board: Board) -> None:
    clp = _session(board.clp)
    r = clp.post("/api/tumor-boards", {"name": "Thoracic tumor board", "disease_site": "thoracic",
                                       "coordinator_id": board.clp.pk, "recurrence": "biweekly",
                                       "shared_with": ["partner"]}, content_type="application/json")
    assert r.status_code == 201, r.content
    series = r.json()
    assert series["required_specialties"] == ["diagnostic_radiology", "pathology", "surgery", "medical_oncology",
                                              "radiation_oncology"] and series["shared_with"] == ["partner"]
    start = (clock.now() + dt.timedelta(days=3)).isoformat()
    r = clp.post(f"/api/tumor-boards/{series['id']}/meetings", {"starts_at": start, "generate_video": True,
                                                                 "repeat": 3}, content_type="application/json")
    assert r.status_code == 201, r.content
    meetings = r.json()
    assert len(meetings) == 3 and all(m["video_link"] for m in meetings)
    assert len({m["video_link"] for m in meetings}) == 3
    meeting = meetings[0]
    onc = _session(board.cast.oncologist)
    r = onc.post(f"/api/tumor-board-meetings/{meeting['id']}/cases", {
        "patient_id": board.cast.pat.pk, "question": "SBRT or lobectomy?", "prospective": True},
        content_type="application/json")
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["status"] == "submitted" and case["packet"] == {}
    r = clp.post(f"/api/tumor-board-cases/{case['id']}/decision", {"decision": "accept", "version": case["version"]},
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["packet"]["question"] == "SBRT or lobectomy?"
    r = clp.post(f"/api/tumor-board-meetings/{meeting['id']}/attendance", {
        "user_id": board.partner_doc.pk, "specialty": "pathology", "mode": "virtual"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["organization"] == "partner"
    # The partner attendee sees the meeting, but not its video link until invited.
    partner = _session(board.partner_doc)
    assert partner.get(f"/api/tumor-board-meetings/{meeting['id']}").json()["video_link"] == ""
    from oncoliaison.tumorboards.models import Meeting

    Meeting.objects.filter(pk=meeting["id"]).update(starts_at=clock.now() - dt.timedelta(minutes=2))
    assert clp.post(f"/api/tumor-board-meetings/{meeting['id']}/start", {}, content_type="application/json").status_code == 200
    r = clp.post(f"/api/tumor-board-cases/{case['id']}/recommendations", {"description": "SBRT"},
                 content_type="application/json")
    assert r.status_code == 422 and "kind" in r.json()["fields"]
    r = clp.post(f"/api/tumor-board-cases/{case['id']}/recommendations", {
        "kind": "radiation", "description": "SBRT 54 Gy in 3 fractions", "responsible_id": board.cast.oncologist.pk},
        content_type="application/json")
    assert r.status_code == 201, r.content
    r = clp.post(f"/api/tumor-board-meetings/{meeting['id']}/close", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    got = partner.get(f"/api/tumor-board-cases/{case['id']}")
    assert got.status_code == 200 and got.json()["recommendations"][0]["task_id"]
    assert Task.objects.filter(pk=got.json()["recommendations"][0]["task_id"], patient=board.cast.pat).exists()
    assert AuditEvent.objects.filter(action="read", resource_type="BoardCase", patient_id=board.cast.pat.pk).exists()
    year = clock.now().year
    r = clp.get(f"/api/tumor-boards/report?year={year}&series_id={series['id']}")
    assert r.status_code == 200, r.content
    report = r.json()[0]
    in_year = sum(1 for m in meetings if m["starts_at"][:4] == str(year))  # a year's end may split them
    assert (report["scheduled"], report["held"], report["cases_presented"]) == (in_year, 1, 1)
    assert report["specialty_attendance"]["pathology"] == {"count": 1, "of": 1, "percent": 100.0}
    assert report["partner_conferences"]["count"] == 1
    assert AuditEvent.objects.filter(resource_type="MeasureReport", resource_id=str(series["id"]),
                                     channel="api", patient_id__isnull=True).exists()


def test_bad_input_changes_nothing(board: Board) -> None:
    clp = _session(board.clp)
    past = (clock.now() - dt.timedelta(days=1)).isoformat()
    r = clp.post(f"/api/tumor-boards/{board.series.pk}/meetings", {"starts_at": past}, content_type="application/json")
    assert r.status_code == 422 and "starts_at" in r.json()["fields"]
    r = clp.post(f"/api/tumor-board-meetings/{board.meeting.pk}/cases", {
        "patient_id": 987654, "question": "Q", "prospective": True}, content_type="application/json")
    assert r.status_code == 404
    r = clp.post(f"/api/tumor-board-meetings/{board.meeting.pk}/attendance", {
        "user_id": board.cast.researcher.pk, "specialty": "research", "mode": "virtual"},
        content_type="application/json")
    assert r.status_code == 422
    assert not BoardCase.objects.exists() and not board.meeting.attendance.exists()
    assert board.series.meetings.count() == 1


def test_bearer_tokens_work_with_scopes(board: Board) -> None:
    api = _bearer(board, "system/Appointment.cruds system/Composition.cruds system/ServiceRequest.cruds "
                         "system/Patient.rs")
    r = api.get("/api/tumor-boards")
    assert r.status_code == 200 and [s["name"] for s in r.json()] == ["Breast tumor board"]
    r = api.post(f"/api/tumor-board-meetings/{board.meeting.pk}/cases", {
        "patient_id": board.cast.pat.pk, "question": "From the EHR", "prospective": False},
        content_type="application/json")
    assert r.status_code == 201, r.content
    assert BoardCase.objects.get().submitted_client
    narrow = _bearer(board, "system/Patient.rs")
    assert narrow.get("/api/tumor-boards").status_code == 403
    assert narrow.get(f"/api/tumor-board-cases/{BoardCase.objects.get().pk}").status_code == 403


def test_other_organisations_get_404_like_missing(board: Board) -> None:
    board.series.shared_with.clear()
    out = _session(board.cast.outsider)
    for url in (f"/api/tumor-boards/{board.series.pk}", f"/api/tumor-board-meetings/{board.meeting.pk}"):
        a, b = out.get(url), out.get(url.rsplit("/", 1)[0] + "/987654")
        assert a.status_code == b.status_code == 404 and a.json() == b.json()
