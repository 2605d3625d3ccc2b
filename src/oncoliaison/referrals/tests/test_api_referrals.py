"""JSON API: referrals into the program and their triage (/api/referrals)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.patients.models import Patient
from oncoliaison.referrals.models import Referral, ReferralStatus, ReferralStatusChange
from oncoliaison.testing import Cast

NEW_REFERRAL = {
    "reason": "New diagnosis of breast cancer; needs navigation and a surgical consult.",
    "urgency": "urgent",
    "given_name": "Nora",
    "family_name": "Quinn",
    "birth_date": "1970-02-03",
    "gender": "female",
    "phone": "555-0142",
    "cancer_type_text": "Breast cancer",
    "stage_text": "IIA",
    "requested_services": ["navigation", "surgical_oncology"],
    "attachments": [{"name": "Pathology report", "content_type": "application/pdf", "document_date": "2026-01-05"}],
}


def _refer(cast: Cast, user: object = None, **changes: object) -> dict[str, object]:
    response = as_user(user or cast.outsider).post("/api/referrals", {**NEW_REFERRAL, **changes},
                                                   content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def _act(cast: Cast, referral: dict[str, object], action: str, body: dict[str, object], user: object = None) -> object:
    return as_user(user or cast.navigator).post(f"/api/referrals/{referral['id']}/{action}", body,
                                                content_type="application/json")


# --- intake -----------------------------------------------------------------------------------------


def test_partner_clinician_refers_a_person_to_the_lead_program(cast: Cast) -> None:
    body = _refer(cast)
    assert body["status"] == "received" and body["receiving_organization"] == "lead"
    assert body["referring_organization"] == "partner" and body["referring_clinician_name"] == "Olga Outsider"
    assert body["requested_services"] == ["navigation", "surgical_oncology"]
    assert body["attachments"][0]["name"] == "Pathology report"  # type: ignore[index]
    assert [h["event"] for h in body["history"]] == ["received"]  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(resource_type="ServiceRequest", action=AuditAction.CREATE,
                                     resource_id=str(body["id"]), channel="api").count() == 1


def test_referring_requires_a_clinical_role_or_scope(cast: Cast) -> None:
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        response = as_user(user).post("/api/referrals", NEW_REFERRAL, content_type="application/json")
        assert_error(response, 403, "forbidden")
    no_scope = bearer(cast.partner, "system/Patient.rs")
    assert_error(Client().post("/api/referrals", NEW_REFERRAL, content_type="application/json", **no_scope),
                 403, "forbidden")
    assert Referral.objects.count() == 0
    with_scope = bearer(cast.partner, "system/ServiceRequest.crs")
    response = Client().post("/api/referrals", {**NEW_REFERRAL, "referring_clinician_id": cast.outsider.pk},
                             content_type="application/json", **with_scope)
    assert response.status_code == 201, response.content
    assert response.json()["referring_clinician_id"] == cast.outsider.pk


def test_bad_referral_is_422_and_nothing_changes(cast: Cast) -> None:
    before = (Referral.objects.count(), ReferralStatusChange.objects.count(), AuditEvent.objects.count())
    client = as_user(cast.outsider)
    for change in ({"reason": ""}, {"family_name": ""}, {"birth_date": "2999-01-01"},
                   {"requested_services": ["massage"]}, {"receiving_organization": "nowhere"},
                   {"receiving_organization": "partner"}, {"identifier_system": "urn:x"}):
        response = client.post("/api/referrals", {**NEW_REFERRAL, **change}, content_type="application/json")
        assert_error(response, 422, "processing")
    assert (Referral.objects.count(), ReferralStatusChange.objects.count(), AuditEvent.objects.count()) == before


def test_an_external_identifier_is_received_once(cast: Cast) -> None:
    ext = {"external_identifier_system": "urn:partner:referrals", "external_identifier_value": "R-77"}
    _refer(cast, **ext)
    response = as_user(cast.outsider).post("/api/referrals", {**NEW_REFERRAL, **ext}, content_type="application/json")
    assert_error(response, 409, "conflict")
    assert Referral.objects.count() == 1


# --- reads ------------------------------------------------------------------------------------------


def test_queue_list_and_detail_for_the_receiving_program(cast: Cast) -> None:
    referral = _refer(cast)
    client = as_user(cast.navigator)
    queue = client.get("/api/referrals/queue").json()
    assert [r["id"] for r in queue] == [referral["id"]]
    listed = client.get("/api/referrals", {"status": "received"}).json()
    assert listed["count"] == 1 and listed["items"][0]["urgency"] == "urgent"
    assert client.get("/api/referrals", {"status": "accepted"}).json()["count"] == 0
    before = AuditEvent.objects.count()
    detail = client.get(f"/api/referrals/{referral['id']}")
    assert detail.status_code == 200 and detail["ETag"] == 'W/"1"'
    assert detail.json()["phone"] == "555-0142"
    (row,) = AuditEvent.objects.order_by("seq")[before:]
    assert (row.action, row.resource_type, row.channel) == (AuditAction.READ, "ServiceRequest", "api")


def test_referrals_hide_other_organisations(cast: Cast) -> None:
    own = _refer(cast, user=cast.oncologist)  # the lead program refers internally
    outsider = as_user(cast.outsider)
    hidden = outsider.get(f"/api/referrals/{own['id']}")
    missing = outsider.get("/api/referrals/999999")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert outsider.get("/api/referrals").json()["count"] == 0
    assert outsider.get("/api/referrals/queue").json() == []
    assert_error(_act(cast, own, "decline", {"reason": "duplicate", "version": 1}, user=cast.outsider),
                 404, "not-found")
    # The referrer sees what they sent, but cannot triage it.
    sent = _refer(cast)
    assert outsider.get(f"/api/referrals/{sent['id']}").status_code == 200
    assert_error(_act(cast, sent, "accept", {"register_new": True, "version": 1}, user=cast.outsider),
                 403, "forbidden")


def test_referral_reads_require_the_right_role_or_scope(cast: Cast) -> None:
    _refer(cast)
    for user in (cast.patient_user, cast.caregiver):
        assert_error(as_user(user).get("/api/referrals"), 403, "forbidden")
    assert_error(as_user(cast.researcher).get("/api/referrals/queue"), 403, "forbidden")
    assert Client().get("/api/referrals", **bearer(cast.lead, "system/ServiceRequest.rs")).json()["count"] == 1
    assert_error(Client().get("/api/referrals", **bearer(cast.lead, "system/Patient.rs")), 403, "forbidden")
    assert_error(Client().get("/api/referrals/queue", **bearer(cast.lead, "system/ServiceRequest.rs")),
                 403, "forbidden")


def test_referral_list_query_budget(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(15):
        _refer(cast)
    client = as_user(cast.navigator)
    client.get("/api/referrals", {"page_size": 1})
    with django_assert_max_num_queries(14):
        response = client.get("/api/referrals", {"page_size": 15})
    assert len(response.json()["items"]) == 15


# --- triage -----------------------------------------------------------------------------------------


def test_triage_to_acceptance_with_a_new_patient_then_contact_and_appointment(cast: Cast) -> None:
    referral = _refer(cast)
    response = _act(cast, referral, "request-info", {"message": "Please send the imaging report.", "version": 1})
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    assert response.json()["status"] == "info_requested"  # type: ignore[attr-defined]
    response = _act(cast, referral, "info-received", {"note": "Imaging arrived", "version": 2})
    assert response.json()["status"] == "received"  # type: ignore[attr-defined]
    patients = Patient.objects.count()
    response = _act(cast, referral, "accept", {"register_new": True, "version": 3})
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    accepted = response.json()  # type: ignore[attr-defined]
    assert accepted["status"] == "accepted" and accepted["patient_id"] is not None
    assert Patient.objects.count() == patients + 1
    assert as_user(cast.navigator).get(f"/api/patients/{accepted['patient_id']}").json()["family_name"] == "Quinn"
    response = _act(cast, referral, "contacts", {"note": "Called", "version": 4})
    assert response.json()["first_contact_at"] is not None  # type: ignore[attr-defined]
    response = _act(cast, referral, "first-appointment", {"at": "2099-03-01T09:30:00", "version": 5})
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    assert response.json()["first_appointment_at"].startswith("2099-03-01")  # type: ignore[attr-defined]
    events = [h["event"] for h in response.json()["history"]]  # type: ignore[attr-defined]
    assert events == ["received", "info_requested", "info_received", "accepted", "first_contact",
                      "first_appointment"]


def test_accepting_a_person_who_may_already_be_registered_asks_to_review_duplicates(cast: Cast) -> None:
    referral = _refer(cast, user=cast.oncologist, given_name="Pat", family_name="Patient", birth_date="1961-04-02")
    patients = Patient.objects.count()
    body = assert_error(_act(cast, referral, "accept", {"register_new": True, "version": 1}), 409, "conflict")
    assert body["fields"] == {"duplicate_patient_ids": [str(cast.pat.pk)]}
    assert Patient.objects.count() == patients
    response = _act(cast, referral, "accept", {"link_patient_id": cast.pat.pk, "version": 1})
    assert response.status_code == 200 and response.json()["patient_id"] == cast.pat.pk  # type: ignore[attr-defined]


def test_decline_needs_a_reason_and_writes_the_letter(cast: Cast) -> None:
    referral = _refer(cast)
    assert_error(_act(cast, referral, "decline", {"reason": "other", "version": 1}), 422, "processing")
    assert_error(_act(cast, referral, "decline", {"reason": "bored", "version": 1}), 422, "processing")
    response = _act(cast, referral, "decline", {"reason": "out_of_scope", "message": "We suggest X.", "version": 1})
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == "declined" and body["decline_reason"] == "out_of_scope" and body["decline_message"]
    # A closed referral cannot be accepted any more.
    assert_error(_act(cast, referral, "accept", {"register_new": True, "version": 2}), 409, "conflict")


def test_stale_version_is_412_and_nothing_changes(cast: Cast) -> None:
    referral = _refer(cast)
    assert _act(cast, referral, "request-info", {"message": "More please", "version": 1}).status_code == 200  # type: ignore[attr-defined]
    response = as_user(cast.navigator).post(f"/api/referrals/{referral['id']}/decline", {"reason": "duplicate"},
                                            content_type="application/json", HTTP_IF_MATCH='W/"1"')
    assert_error(response, 412, "conflict")
    assert Referral.objects.get(pk=referral["id"]).status == ReferralStatus.INFO_REQUESTED
    assert_error(_act(cast, referral, "decline", {"reason": "duplicate"}), 428, "precondition-required")  # no version


def test_referrer_withdraws_their_referral(cast: Cast) -> None:
    referral = _refer(cast)
    response = _act(cast, referral, "withdraw", {"note": "Patient chose another center", "version": 1},
                    user=cast.outsider)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"  # type: ignore[attr-defined]
    # The receiving program may withdraw too (on the person's request); others do not even see it.
    other = _refer(cast, user=cast.oncologist)
    assert_error(_act(cast, other, "withdraw", {"version": 1}, user=cast.researcher), 404, "not-found")
    assert _act(cast, other, "withdraw", {"version": 1}, user=cast.admin).status_code == 200  # type: ignore[attr-defined]
    assert_error(_act(cast, referral, "withdraw", {"version": 2}, user=cast.outsider), 409, "conflict")


def test_systems_cannot_triage(cast: Cast) -> None:
    referral = _refer(cast)
    headers = bearer(cast.lead, "system/ServiceRequest.cruds")
    response = Client().post(f"/api/referrals/{referral['id']}/accept", {"register_new": True, "version": 1},
                             content_type="application/json", **headers)
    assert_error(response, 403, "forbidden")
    assert Referral.objects.get(pk=referral["id"]).status == ReferralStatus.RECEIVED
