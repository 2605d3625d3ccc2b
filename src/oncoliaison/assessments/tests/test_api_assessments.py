"""JSON API: needs assessments and proposed referrals (/api/patients/{id}/assessments, /api/assessments)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.assessments.models import Assessment, AssessmentScore, ReferralSuggestion
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import Cast

POSITIVE_DT = {"distress": [6], "problems-emotional": ["worry"], "problems-practical": ["finances", "transportation"]}


def _url(cast: Cast, patient: object = None) -> str:
    return f"/api/patients/{(patient or cast.pat).pk}/assessments"  # type: ignore[attr-defined]


def _submit(cast: Cast, user: object, answers: object = None, **extra: object) -> object:
    body = {"instrument": "nccn-dt", "answers": answers or POSITIVE_DT, **extra}
    return as_user(user).post(_url(cast), body, content_type="application/json")


def test_patient_completes_the_distress_thermometer_and_sees_scores(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    response = _submit(cast, cast.patient_user)
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["filled_by"] == "patient" and body["positive"] is True and body["organization"] == "lead"
    dt_score = next(s for s in body["scores"] if s["code"] == "distress-thermometer")
    assert (dt_score["value_integer"], dt_score["interpretation"]) == (6, "POS")
    assert {s["service"] for s in body["suggestions"]} == {"psychology", "financial_counselling", "social_work"}
    row = AuditEvent.objects.get(resource_type="QuestionnaireResponse", action="create")
    assert (row.patient_id, row.channel) == (cast.pat.pk, "api")


def test_instruments_offered_follow_the_licence_permissions(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    codes = [i["code"] for i in as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}/assessment-instruments").json()]
    assert "nccn-dt" in codes
    dt = next(i for i in as_user(cast.patient_user).get(
        f"/api/patients/{cast.pat.pk}/assessment-instruments").json() if i["code"] == "nccn-dt")
    assert dt["definition"]["items"][0]["link_id"] == "distress"


def test_bad_answers_are_422_and_nothing_is_stored(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    before = (Assessment.objects.count(), AssessmentScore.objects.count(), AuditEvent.objects.count())
    assert_error(_submit(cast, cast.navigator, {"distress": [12]}), 422, "processing")
    assert_error(_submit(cast, cast.navigator, {"distress": [""]}), 422, "processing")
    response = as_user(cast.navigator).post(_url(cast), {"instrument": "horoscope", "answers": {"x": [1]}},
                                            content_type="application/json")
    body = assert_error(response, 422, "processing")
    assert "instrument" in body["fields"]  # type: ignore[operator]
    assert_error(_submit(cast, cast.navigator, authored_at="2099-01-01T00:00:00Z"), 422, "processing")
    assert (Assessment.objects.count(), AssessmentScore.objects.count(), AuditEvent.objects.count()) == before


def test_assessments_hide_other_organisations(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    created = _submit(cast, cast.navigator).json()  # type: ignore[attr-defined]
    outsider = as_user(cast.outsider)
    pairs = [(f"/api/assessments/{created['id']}", "/api/assessments/999999"),
             (_url(cast), "/api/patients/999999/assessments")]
    for hidden_path, missing_path in pairs:
        hidden, missing = outsider.get(hidden_path), outsider.get(missing_path)
        assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert_error(_submit(cast, cast.outsider), 404, "not-found")
    suggestion = ReferralSuggestion.objects.first()
    assert suggestion is not None
    response = outsider.post(f"/api/assessment-suggestions/{suggestion.pk}/decide", {"accept": True},
                             content_type="application/json")
    assert_error(response, 404, "not-found")
    assert Assessment.objects.count() == 1


def test_filling_requires_the_right_role_or_scope(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    assert_error(_submit(cast, cast.researcher), 404, "not-found")  # sees no patients at all
    assert_error(_submit(cast, cast.caregiver), 403, "forbidden")  # view-only proxy
    Consent.objects.filter(kind=ConsentKind.CAREGIVER_PROXY).update(proxy_scope="report")
    assert _submit(cast, cast.caregiver).json()["filled_by"] == "proxy"  # type: ignore[attr-defined]
    reader = bearer(cast.lead, "system/QuestionnaireResponse.rs")
    body = {"instrument": "nccn-dt", "answers": POSITIVE_DT}
    assert_error(Client().post(_url(cast), body, content_type="application/json", **reader), 403, "forbidden")
    assert len(Client().get(_url(cast), **reader).json()) == 1
    writer = bearer(cast.lead, "system/QuestionnaireResponse.cr")
    assert Client().post(_url(cast), body, content_type="application/json", **writer).status_code == 201
    assert_error(Client().get(_url(cast), **bearer(cast.lead, "system/Patient.rs")), 403, "forbidden")


def test_navigator_decides_suggestions_once(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    created = _submit(cast, cast.patient_user).json()  # type: ignore[attr-defined]
    first, second = created["suggestions"][:2]
    client = as_user(cast.navigator)
    url = "/api/assessment-suggestions/{}/decide"
    assert_error(as_user(cast.patient_user).post(url.format(first["id"]), {"accept": True},
                                                 content_type="application/json"), 403, "forbidden")
    response = client.post(url.format(first["id"]), {"accept": True}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert_error(client.post(url.format(first["id"]), {"accept": False, "note": "x"},
                             content_type="application/json"), 409, "conflict")
    assert_error(client.post(url.format(second["id"]), {"accept": False}, content_type="application/json"),
                 422, "processing")


def test_entered_in_error_hides_it_from_the_patient(cast: Cast, versions) -> None:  # type: ignore[no-untyped-def]
    created = _submit(cast, cast.navigator).json()  # type: ignore[attr-defined]
    url = f"/api/assessments/{created['id']}/entered-in-error"
    assert_error(as_user(cast.patient_user).post(url, {"reason": "wrong patient"}, content_type="application/json"),
                 403, "forbidden")
    response = as_user(cast.navigator).post(url, {"reason": "Wrong patient"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "entered-in-error"
    assert all(s["status"] == "rejected" for s in response.json()["suggestions"])
    assert as_user(cast.patient_user).get(_url(cast)).json() == []
    assert_error(as_user(cast.patient_user).get(f"/api/assessments/{created['id']}"), 404, "not-found")
