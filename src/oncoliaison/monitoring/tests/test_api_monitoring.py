"""JSON API: symptom reports, instruments and the alert worklist (/api/patients/{id}/symptom-*,
/api/symptom-alerts)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.core.models import AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.monitoring.models import Alert, SymptomReport
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import Cast

from .conftest import esas_answers

MILD = [2, 3, 1, 0, 2, 1, 1, 2, 3]
SEVERE = [8, 3, 1, 0, 2, 1, 1, 2, 3]


def _url(cast: Cast, patient: object = None) -> str:
    return f"/api/patients/{(patient or cast.pat).pk}/symptom-reports"  # type: ignore[attr-defined]


def _submit(cast: Cast, user: object, values: list[int | None], **extra: object) -> object:
    body = {"instrument": "esas-r", "answers": esas_answers(values), **extra}
    return as_user(user).post(_url(cast), body, content_type="application/json")


# --- reports ----------------------------------------------------------------------------------------


def test_patient_reports_and_gets_scores_and_guidance(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    response = _submit(cast, cast.patient_user, MILD)
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["created"] is True
    report = body["report"]
    assert report["instrument"] == "esas-r" and report["source"] == "portal" and report["reporter_kind"] == "patient"
    tsds = next(s for s in report["scores"] if s["code"] == "esas-tsds")
    assert (tsds["value"], tsds["max_value"]) == (15, 90)
    assert report["alert"] is None and body["guidance"]["severity"] == ""
    row = AuditEvent.objects.get(resource_type="QuestionnaireResponse", resource_id=str(report["id"]))
    assert (row.action, row.patient_id, row.channel) == ("create", cast.pat.pk, "api")


def test_severe_symptom_raises_an_alert_and_tells_the_patient_to_call(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    body = _submit(cast, cast.patient_user, SEVERE).json()  # type: ignore[attr-defined]
    assert body["report"]["alert"]["severity"] == "severe"
    assert body["guidance"]["call_now"] is True and body["guidance"]["deadline"] is not None


def test_resending_the_same_source_id_stores_the_report_once(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    first = _submit(cast, cast.patient_user, MILD, source_id="app-42")
    again = _submit(cast, cast.patient_user, MILD, source_id="app-42")
    assert first.status_code == 201 and again.status_code == 200  # type: ignore[attr-defined]
    assert again.json()["created"] is False  # type: ignore[attr-defined]
    assert again.json()["report"]["id"] == first.json()["report"]["id"]  # type: ignore[attr-defined]
    assert SymptomReport.objects.count() == 1


def test_invalid_answers_are_422_and_nothing_is_stored(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    before = (SymptomReport.objects.count(), AuditEvent.objects.count())
    body = assert_error(_submit(cast, cast.patient_user, [11, *MILD[1:]]), 422, "processing")
    assert "esas-1" in body["fields"]  # type: ignore[operator]
    assert_error(_submit(cast, cast.patient_user, [None] * 9), 422, "processing")
    response = as_user(cast.patient_user).post(_url(cast), {"instrument": "tarot", "answers": {}},
                                               content_type="application/json")
    assert_error(response, 422, "processing")
    assert_error(_submit(cast, cast.patient_user, MILD, authored_at="2099-01-01T00:00:00Z"), 422, "processing")
    assert (SymptomReport.objects.count(), AuditEvent.objects.count()) == before


def test_reports_hide_other_organisations_and_require_the_right_role(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    hidden = _submit(cast, cast.outsider, MILD)
    missing = as_user(cast.outsider).post("/api/patients/999999/symptom-reports",
                                          {"instrument": "esas-r", "answers": esas_answers(MILD)},
                                          content_type="application/json")
    assert hidden.status_code == missing.status_code == 404  # type: ignore[attr-defined]
    assert hidden.content == missing.content  # type: ignore[attr-defined]
    # A patient reports only for themselves; a view-only caregiver may not report.
    response = as_user(cast.patient_user).post(_url(cast, cast.other_patient),
                                               {"instrument": "esas-r", "answers": esas_answers(MILD)},
                                               content_type="application/json")
    assert_error(response, 404, "not-found")
    assert_error(_submit(cast, cast.caregiver, MILD), 403, "forbidden")
    assert_error(_submit(cast, cast.researcher, MILD), 404, "not-found")
    assert SymptomReport.objects.count() == 0


def test_caregiver_with_reporting_proxy_and_staff_on_the_phone(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    Consent.objects.filter(kind=ConsentKind.CAREGIVER_PROXY).update(proxy_scope="report")
    assert _submit(cast, cast.caregiver, MILD).json()["report"]["reporter_kind"] == "proxy"  # type: ignore[attr-defined]
    staff = _submit(cast, cast.navigator, MILD).json()  # type: ignore[attr-defined]
    assert (staff["report"]["source"], staff["report"]["reporter_kind"]) == ("phone", "staff")


def test_outside_app_needs_the_questionnaire_response_scope(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    body = {"instrument": "esas-r", "answers": esas_answers(MILD)}
    no_scope = bearer(cast.lead, "system/Patient.rs")
    assert_error(Client().post(_url(cast), body, content_type="application/json", **no_scope), 403, "forbidden")
    headers = bearer(cast.lead, "system/QuestionnaireResponse.crs")
    response = Client().post(_url(cast), body, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    assert response.json()["report"]["reporter_kind"] == "system"
    partner = bearer(cast.partner, "system/QuestionnaireResponse.crs")
    assert_error(Client().post(_url(cast), body, content_type="application/json", **partner), 404, "not-found")


def test_history_instruments_and_schedules(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    _submit(cast, cast.patient_user, MILD)
    frozen.advance(hours=1)
    _submit(cast, cast.patient_user, SEVERE)
    history = as_user(cast.navigator).get(_url(cast))
    assert history.status_code == 200, history.content
    reports = history.json()
    assert len(reports) == 2 and reports[0]["highest_severity"] == "severe"  # newest first
    assert len(reports[0]["answers"]) >= 9
    assert as_user(cast.patient_user).get(_url(cast), {"instrument": "esas-r"}).status_code == 200
    assert_error(as_user(cast.patient_user).get(_url(cast), {"instrument": "tarot"}), 422, "processing")
    assert_error(as_user(cast.outsider).get(_url(cast)), 404, "not-found")
    instruments = as_user(cast.patient_user).get(f"/api/patients/{cast.pat.pk}/symptom-instruments").json()
    esas = next(i for i in instruments if i["code"] == "esas-r")
    assert [i["link_id"] for i in esas["items"]][:2] == ["esas-1", "esas-2"]
    assert all(i["code"] != "pro-ctcae" for i in instruments)  # needs a recorded licence permission
    assert as_user(cast.patient_user).get(f"/api/patients/{cast.pat.pk}/symptom-schedules").json() == []


# --- alerts -----------------------------------------------------------------------------------------


def _alert_id(cast: Cast) -> int:
    return int(_submit(cast, cast.patient_user, SEVERE).json()["report"]["alert"]["id"])  # type: ignore[attr-defined]


def test_worklist_shows_open_alerts_to_the_care_team_only(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    alert_id = _alert_id(cast)
    worklist = as_user(cast.navigator).get("/api/symptom-alerts").json()
    assert [a["id"] for a in worklist] == [alert_id] and worklist[0]["patient_name"] == "Pat Patient"
    assert AuditEvent.objects.filter(resource_type="Flag", action="read", channel="api",
                                     patient_id=cast.pat.pk).exists()
    assert as_user(cast.outsider).get("/api/symptom-alerts").json() == []
    for user in (cast.patient_user, cast.caregiver, cast.researcher):
        assert_error(as_user(user).get("/api/symptom-alerts"), 403, "forbidden")
    assert_error(Client().get("/api/symptom-alerts", **bearer(cast.lead, "system/Flag.rs")), 403, "forbidden")


def test_alert_detail_hides_other_organisations(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    alert_id = _alert_id(cast)
    hidden = as_user(cast.outsider).get(f"/api/symptom-alerts/{alert_id}")
    missing = as_user(cast.outsider).get("/api/symptom-alerts/999999")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    response = as_user(cast.outsider).post(f"/api/symptom-alerts/{alert_id}/acknowledge", {"version": 1},
                                           content_type="application/json")
    assert_error(response, 404, "not-found")
    detail = as_user(cast.navigator).get(f"/api/symptom-alerts/{alert_id}")
    assert detail.status_code == 200 and detail["ETag"] == 'W/"1"'


def test_acknowledge_act_and_resolve_with_versions(cast: Cast, frozen) -> None:  # type: ignore[no-untyped-def]
    alert_id = _alert_id(cast)
    client = as_user(cast.navigator)
    base = f"/api/symptom-alerts/{alert_id}"
    assert_error(client.post(f"{base}/resolve", {"version": 1}, content_type="application/json"), 422, "processing")
    response = client.post(f"{base}/acknowledge", {"version": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    assert_error(client.post(f"{base}/actions", {"kind": "called_patient", "note": "Spoke with Pat", "version": 1},
                             content_type="application/json"), 412, "conflict")
    response = client.post(f"{base}/actions", {"kind": "called_patient", "note": "Advised to come in", "version": 2},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert [a["kind"] for a in response.json()["actions"]] == ["acknowledged", "called_patient"]
    response = client.post(f"{base}/resolve", {"version": 3}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert Alert.objects.get(pk=alert_id).resolved_by_id == cast.navigator.pk
    assert_error(client.post(f"{base}/actions", {"kind": "note", "note": "late", "version": 4},
                             content_type="application/json"), 409, "conflict")
    assert_error(as_user(cast.patient_user).post(f"{base}/acknowledge", {"version": 4},
                                                 content_type="application/json"), 403, "forbidden")
