"""Tumor boards through FHIR: Appointment, Composition and ServiceRequest are valid R4, scoped like the
other doors (hidden = missing), the video link reaches invited people only, and the board's conclusions are
in Patient/$everything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import actor_for_user, api_client_create, token_issue
from oncoliaison.core import clock
from oncoliaison.core.models import AuditEvent
from oncoliaison.fhir.tests.conftest import FHIR_JSON, Fhir
from oncoliaison.patients.models import Patient
from oncoliaison.tumorboards import services
from oncoliaison.tumorboards.fhir.common import EXT_VIDEO_LINK
from oncoliaison.tumorboards.models import BoardCase

from .conftest import Board

MISSING = 987654321


def _token(organization, scopes: str = "system/*.cruds") -> str:  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=organization, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _get(token: str, path: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    return Fhir(token).get(path, params, Accept=FHIR_JSON)


def _as(user, path: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return Fhir(client=client).get(path, params, Accept=FHIR_JSON)


def _valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def _submit(board: Board, patient: Patient) -> BoardCase:
    return services.case_submit(actor=actor_for_user(board.cast.oncologist), meeting=board.meeting,
                                data=services.CaseData(patient_id=patient.pk, prospective=True,
                                                       question="Neoadjuvant therapy or surgery first?"))


def _discuss(board: Board, *patients: Patient) -> list[BoardCase]:
    """Run the meeting: the cases accepted, attendance, discussion, recommendations, closing, an addendum."""
    clp = actor_for_user(board.clp)
    cases = [services.case_decide(actor=clp, case=_submit(board, p), decision="accept") for p in patients]
    services.attendance_record(actor=clp, meeting=board.meeting, data=services.AttendanceData(
        user_id=board.radiologist.pk, specialty="diagnostic_radiology", mode="in_person"))
    board.meeting.starts_at = clock.now() - dt.timedelta(minutes=5)
    board.meeting.save()
    services.meeting_start(actor=clp, meeting=board.meeting)
    for case in cases:
        services.case_record_discussion(actor=clp, case=case, data=services.DiscussionData(
            stage_discussed=True, stage_agreed="cT2 cN1 cM0, IIB", stage_edition="AJCC 8th", guideline_body="NCCN",
            guideline_name="Breast Cancer", guideline_version="4.2026", trial_discussed=True, trials="NCT01234567"))
        services.recommendation_add(actor=clp, case=case, data=services.RecommendationData(
            kind="systemic", description="Neoadjuvant chemotherapy", responsible_id=board.cast.oncologist.pk,
            due_date=clock.today() + dt.timedelta(days=14)))
        services.recommendation_add(actor=clp, case=case, data=services.RecommendationData(
            kind="surgery", description="Lumpectomy after chemotherapy", agreement="dissent",
            dissent_reason="Surgeon prefers surgery first"))
    services.meeting_close(actor=clp, meeting=board.meeting, minutes="Two cases.")
    services.addendum_add(actor=clp, case=BoardCase.objects.get(pk=cases[0].pk),
                          text="Stage corrected to IIA after pathology review.")
    return [BoardCase.objects.get(pk=c.pk) for c in cases]


@pytest.fixture
def unshared(board: Board) -> Patient:
    return Patient.objects.create(organization=board.cast.lead, given_name="Una", family_name="Shared",
                                  birth_date=dt.date(1950, 5, 5), gender="female")


def test_appointment_is_valid_and_names_no_patient(board: Board) -> None:
    _discuss(board, board.cast.pat)
    r = _get(_token(board.cast.lead), f"/Appointment/{board.meeting.pk}")
    assert r.status_code == 200
    appt = _valid(r.json())
    assert appt["status"] == "fulfilled" and appt["description"] == "Breast tumor board"
    assert appt["serviceType"][0]["coding"][0]["code"] == "tumor-board"
    people = {p["actor"].get("reference"): p for p in appt["participant"]}
    chair = people[f"Practitioner/{board.clp.pk}"]
    assert chair["required"] == "required" and chair["type"][0]["coding"][0]["code"] == "PPRF"
    radiologist = people[f"Practitioner/{board.radiologist.pk}"]
    assert radiologist["status"] == "accepted" and radiologist["type"][-1]["text"].startswith("Diagnostic radiology")
    assert any("Room 4B" in p["actor"].get("display", "") for p in appt["participant"])
    assert "Patient" not in r.content.decode() and board.cast.pat.family_name not in r.content.decode()
    # A system client is nobody invited: no video link.
    assert "extension" not in appt
    found = _get(_token(board.cast.lead), "/Appointment", {"status": "fulfilled", "date": f"ge{clock.today():%Y}"})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [str(board.meeting.pk)]
    by_person = _get(_token(board.cast.lead), "/Appointment", {"practitioner": f"Practitioner/{board.radiologist.pk}"})
    assert by_person.json()["total"] == 1
    assert _get(_token(board.cast.lead), "/Appointment", {"status": "cancelled"}).json()["total"] == 0


def test_video_link_only_for_the_invited(board: Board) -> None:
    link = board.meeting.video_link
    assert link

    def ext(user) -> list[dict]:  # type: ignore[no-untyped-def]
        r = _as(user, f"/Appointment/{board.meeting.pk}")
        assert r.status_code == 200
        return [e for e in _valid(r.json()).get("extension", []) if e["url"] == EXT_VIDEO_LINK]

    assert ext(board.clp) == [{"url": EXT_VIDEO_LINK, "valueUrl": link}]  # the coordinator
    assert ext(board.partner_doc) == []  # takes part in the series, not invited to this meeting
    services.invite(actor=actor_for_user(board.clp), meeting=board.meeting, user_ids=[board.partner_doc.pk])
    assert ext(board.partner_doc) == [{"url": EXT_VIDEO_LINK, "valueUrl": link}]
    search = _as(board.partner_doc, "/Appointment", {"_id": str(board.meeting.pk)}).json()
    assert search["entry"][0]["resource"]["extension"][0]["valueUrl"] == link


def test_composition_is_the_boards_review(board: Board) -> None:
    (case,) = _discuss(board, board.cast.pat)
    token = _token(board.cast.lead)
    r = _get(token, f"/Composition/{case.pk}")
    assert r.status_code == 200
    comp = _valid(r.json())
    assert comp["type"]["coding"][0] == {"system": "http://loinc.org", "code": "85232-7",
                                         "display": "Tumor board Consult note"}
    assert comp["status"] == "amended" and comp["subject"] == {"reference": f"Patient/{board.cast.pat.pk}"}
    assert comp["author"][0]["reference"] == f"Practitioner/{board.clp.pk}"
    assert comp["event"][0]["detail"] == [{"reference": f"Appointment/{board.meeting.pk}"}]
    titles = {s["title"]: s for s in comp["section"]}
    assert "cT2 cN1 cM0, IIB (AJCC 8th)" in titles["Stage as agreed by the board"]["text"]["div"]
    assert "NCCN Breast Cancer, version 4.2026" in titles["Guideline consulted"]["text"]["div"]
    assert "NCT01234567" in titles["Clinical trials"]["text"]["div"]
    assert "IIA after pathology review" in titles["Addenda"]["text"]["div"]
    refs = [e["reference"] for e in titles["Recommendations"]["entry"]]
    assert refs == [f"ServiceRequest/tbr-{pk}" for pk in case.recommendations.order_by("pk").values_list("pk", flat=True)]
    assert AuditEvent.objects.filter(resource_type="BoardCase", action="read", patient_id=board.cast.pat.pk,
                                     channel="fhir").exists()
    # The addendum made a new version of the review.
    assert r["ETag"] == f'W/"{case.version}"' and comp["meta"]["versionId"] == str(case.version)
    listed = _get(token, "/Composition", {"patient": f"Patient/{board.cast.pat.pk}"}).json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(case.pk)]


def test_recommendations_are_service_requests(board: Board) -> None:
    (case,) = _discuss(board, board.cast.pat)
    token = _token(board.cast.lead)
    systemic, surgery = case.recommendations.order_by("pk")
    r = _get(token, f"/ServiceRequest/tbr-{systemic.pk}")
    assert r.status_code == 200
    sr = _valid(r.json())
    assert sr["id"] == f"tbr-{systemic.pk}" and sr["intent"] == "plan" and sr["status"] == "active"
    assert sr["supportingInfo"] == [{"reference": f"Composition/{case.pk}"}]
    assert sr["performer"][0]["reference"] == f"Practitioner/{board.cast.oncologist.pk}"
    assert sr["occurrenceDateTime"] == systemic.due_date.isoformat()  # type: ignore[union-attr]
    assert {c["coding"][0]["code"] for c in sr["category"]} == {"85232-7", "systemic"}
    cut = _valid(_get(token, f"/ServiceRequest/tbr-{surgery.pk}").json())
    assert cut["code"]["coding"][0]["code"] == "387713003"
    assert cut["note"] == [{"text": "Dissent recorded: Surgeon prefers surgery first"}]
    # Beside the referrals: the board's recommendations by category, by kind.
    found = _get(token, "/ServiceRequest", {"category": "http://loinc.org|85232-7"}).json()
    assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted([f"tbr-{systemic.pk}", f"tbr-{surgery.pk}"])
    only = _get(token, "/ServiceRequest", {"patient": f"Patient/{board.cast.pat.pk}", "category": "surgery"}).json()
    assert [e["resource"]["id"] for e in only["entry"]] == [f"tbr-{surgery.pk}"]
    assert _get(token, f"/ServiceRequest/tbr-{MISSING}").status_code == 404


def test_partner_sees_only_the_shared_patients_and_hidden_is_missing(board: Board, unshared: Patient) -> None:
    shared_case, hidden_case = _discuss(board, board.cast.pat, unshared)
    token = _token(board.cast.partner)
    assert _get(token, f"/Composition/{shared_case.pk}").status_code == 200
    hidden_rec = hidden_case.recommendations.first()
    assert hidden_rec is not None
    for hidden, missing in ((f"/Composition/{hidden_case.pk}", f"/Composition/{MISSING}"),
                            (f"/ServiceRequest/tbr-{hidden_rec.pk}", f"/ServiceRequest/tbr-{MISSING}")):
        a, b = _get(token, hidden), _get(token, missing)
        assert (a.status_code, a.content) == (b.status_code, b.content)
        assert a.status_code == 404
    assert _get(token, "/Composition", {"_id": str(hidden_case.pk)}).json()["total"] == 0
    assert _get(token, "/ServiceRequest", {"_id": f"tbr-{hidden_rec.pk}"}).json()["total"] == 0
    listed = _get(token, "/ServiceRequest", {"category": "http://loinc.org|85232-7"}).json()
    assert {e["resource"]["subject"]["reference"] for e in listed["entry"]} == {f"Patient/{board.cast.pat.pk}"}
    # A research organisation's client is refused the patients' records and sees no meeting.
    research = _token(board.cast.research)
    assert _get(research, "/Composition").status_code == 403
    assert _get(research, "/Appointment").json()["total"] == 0
    # Patients read the released summary in the portal, not the board's records.
    assert _as(board.cast.patient_user, f"/Composition/{shared_case.pk}").status_code == 403


def test_only_discussed_cases_are_served(board: Board) -> None:
    case = services.case_decide(actor=actor_for_user(board.clp), case=_submit(board, board.cast.pat),
                                decision="accept")
    token = _token(board.cast.lead)
    a, b = _get(token, f"/Composition/{case.pk}"), _get(token, f"/Composition/{MISSING}")
    assert a.status_code == b.status_code == 404 and a.content == b.content


def test_review_and_recommendations_are_in_everything(board: Board) -> None:
    (case,) = _discuss(board, board.cast.pat)
    r = _get(_token(board.cast.lead), f"/Patient/{board.cast.pat.pk}/$everything")
    assert r.status_code == 200
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in r.json()["entry"]}
    assert ("Composition", str(case.pk)) in ids
    assert {("ServiceRequest", f"tbr-{pk}") for pk in case.recommendations.values_list("pk", flat=True)} <= ids
    assert ("Appointment", str(board.meeting.pk)) not in ids
