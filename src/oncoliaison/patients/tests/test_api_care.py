"""JSON API: a patient's care teams and consents (/api/patients/{id}/care-teams, /consents)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.patients.models import CareTeam, CareTeamParticipant, Consent, ConsentKind, ConsentStatus
from oncoliaison.testing import Cast


def _teams_url(cast: Cast) -> str:
    return f"/api/patients/{cast.pat.pk}/care-teams"


def _consents_url(cast: Cast) -> str:
    return f"/api/patients/{cast.pat.pk}/consents"


# --- care teams ------------------------------------------------------------------------------------


def test_care_team_list_shows_participants_and_is_audited(cast: Cast) -> None:
    before = AuditEvent.objects.count()
    response = as_user(cast.navigator).get(_teams_url(cast))
    assert response.status_code == 200, response.content
    (team,) = response.json()
    assert team["name"] == "Oncology care team" and team["organization"] == "lead" and team["status"] == "active"
    assert {(p["display_name"], p["role"]) for p in team["participants"]} == {
        ("Grace Navigator", "Nurse navigator"), ("Sam Oncologist", "Medical oncologist")
    }
    (row,) = AuditEvent.objects.order_by("seq")[before:]
    assert (row.action, row.patient_id, row.category, row.resource_type, row.channel) == (
        AuditAction.SEARCH, cast.pat.pk, "care_team", "CareTeam", "api")  # as FHIR CareTeam?patient= writes it


def test_patient_and_caregiver_see_the_care_team(cast: Cast) -> None:
    for user in (cast.patient_user, cast.caregiver):
        assert len(as_user(user).get(_teams_url(cast)).json()) == 1


def test_care_teams_hide_other_organisations(cast: Cast) -> None:
    client = as_user(cast.outsider)
    hidden = client.get(_teams_url(cast))
    missing = client.get("/api/patients/999999/care-teams")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    response = client.patch(f"{_teams_url(cast)}/{cast.care_team.pk}", {"name": "x", "version": 1},
                            content_type="application/json")
    assert_error(response, 404, "not-found")
    # A team id of another patient is not reachable through this patient.
    other_team = CareTeam.objects.create(patient=cast.other_patient, organization=cast.partner, name="Partner team")
    response = as_user(cast.navigator).patch(f"{_teams_url(cast)}/{other_team.pk}", {"name": "x", "version": 1},
                                             content_type="application/json")
    assert_error(response, 404, "not-found")


def test_care_team_create_and_update(cast: Cast) -> None:
    client = as_user(cast.navigator)
    payload = {"name": "Survivorship team", "participants": [
        {"user_id": cast.navigator.pk, "role": "Nurse navigator", "start": "2026-01-01"}]}
    response = client.post(_teams_url(cast), payload, content_type="application/json")
    assert response.status_code == 201, response.content
    team = response.json()
    assert team["version"] == 1 and team["participants"][0]["start"] == "2026-01-01"
    url = f"{_teams_url(cast)}/{team['id']}"
    response = client.patch(url, {"status": "inactive"}, content_type="application/json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    updated = response.json()
    assert updated["status"] == "inactive" and updated["name"] == "Survivorship team" and updated["version"] == 2
    assert len(updated["participants"]) == 1  # participants not sent: kept
    response = client.patch(url, {"participants": [], "version": 2}, content_type="application/json")
    assert response.json()["participants"] == []
    actions = list(AuditEvent.objects.filter(resource_type="CareTeam", resource_id=str(team["id"]))
                   .values_list("action", flat=True))
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE]


def test_care_team_stale_version_is_412(cast: Cast) -> None:
    url = f"{_teams_url(cast)}/{cast.care_team.pk}"
    client = as_user(cast.navigator)
    assert client.patch(url, {"name": "Renamed", "version": 1}, content_type="application/json").status_code == 200
    assert_error(client.patch(url, {"name": "Again", "version": 1}, content_type="application/json"), 412, "conflict")
    cast.care_team.refresh_from_db()
    assert cast.care_team.name == "Renamed"


def test_care_team_bad_input_is_422_and_nothing_changes(cast: Cast) -> None:
    client = as_user(cast.navigator)
    counts = (CareTeam.objects.count(), CareTeamParticipant.objects.count())
    for payload in (
        {"name": ""},
        {"name": "T", "status": "exploded"},
        {"name": "T", "participants": [{"user_id": cast.patient_user.pk, "role": "Friend"}]},
        {"name": "T", "participants": [{"user_id": cast.navigator.pk, "role": "N", "start": "2026-02-01",
                                        "end": "2026-01-01"}]},
    ):
        response = client.post(_teams_url(cast), payload, content_type="application/json")
        assert_error(response, 422, "processing")
    assert (CareTeam.objects.count(), CareTeamParticipant.objects.count()) == counts


def test_care_team_changes_require_a_care_role_or_scope(cast: Cast) -> None:
    count = CareTeam.objects.count()
    for user in (cast.patient_user, cast.caregiver):
        assert_error(as_user(user).post(_teams_url(cast), {"name": "Mine"}, content_type="application/json"),
                     403, "forbidden")
    headers = bearer(cast.lead, "system/CareTeam.rs")
    assert Client().get(_teams_url(cast), **headers).status_code == 200
    assert_error(Client().post(_teams_url(cast), {"name": "Sys"}, content_type="application/json", **headers),
                 403, "forbidden")
    assert_error(Client().get(_teams_url(cast), **bearer(cast.lead, "system/Patient.rs")), 403, "forbidden")
    assert CareTeam.objects.count() == count
    writer = bearer(cast.lead, "system/CareTeam.crus")
    response = Client().post(_teams_url(cast), {"name": "Sys"}, content_type="application/json", **writer)
    assert response.status_code == 201, response.content


# --- consents --------------------------------------------------------------------------------------


def test_consent_list_staff_sees_all_caregiver_only_their_own(cast: Cast) -> None:
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.TREATMENT, organization=cast.lead)
    assert {c["kind"] for c in as_user(cast.navigator).get(_consents_url(cast)).json()} == {
        "caregiver_proxy", "treatment"
    }
    (mine,) = as_user(cast.caregiver).get(_consents_url(cast)).json()
    assert mine["kind"] == "caregiver_proxy" and mine["grantee_user_id"] == cast.caregiver.pk
    assert len(as_user(cast.patient_user).get(_consents_url(cast)).json()) == 2


def test_consents_hide_other_organisations(cast: Cast) -> None:
    client = as_user(cast.outsider)
    hidden = client.get(_consents_url(cast))
    missing = client.get("/api/patients/999999/consents")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    consent = Consent.objects.get(patient=cast.pat)
    assert_error(client.post(f"{_consents_url(cast)}/{consent.pk}/revoke"), 404, "not-found")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_navigator_records_a_data_sharing_consent_which_opens_the_record_to_the_grantee(cast: Cast) -> None:
    payload = {"kind": "data_sharing", "grantee_organization": "partner", "period_start": "2026-01-01",
               "note": "Second opinion"}
    response = as_user(cast.navigator).post(_consents_url(cast), payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grantee_organization"] == "partner" and body["organization"] == "lead" and body["status"] == "active"
    assert as_user(cast.outsider).get(f"/api/patients/{cast.pat.pk}").status_code == 200
    # Revoking it closes the record again.
    response = as_user(cast.navigator).post(f"{_consents_url(cast)}/{body['id']}/revoke")
    assert response.status_code == 200 and response.json()["status"] == "inactive"
    assert_error(as_user(cast.outsider).get(f"/api/patients/{cast.pat.pk}"), 404, "not-found")


def test_patient_revokes_their_caregivers_proxy(cast: Cast) -> None:
    consent = Consent.objects.get(patient=cast.pat, kind=ConsentKind.CAREGIVER_PROXY)
    response = as_user(cast.patient_user).post(f"{_consents_url(cast)}/{consent.pk}/revoke")
    assert response.status_code == 200, response.content
    assert response.json()["period_end"] is not None
    assert_error(as_user(cast.caregiver).get(f"/api/patients/{cast.pat.pk}"), 404, "not-found")
    row = AuditEvent.objects.filter(resource_type="Consent", action=AuditAction.UPDATE).get()
    assert row.patient_id == cast.pat.pk and row.channel == "api"


def test_caregiver_cannot_change_consents(cast: Cast) -> None:
    consent = Consent.objects.get(patient=cast.pat)
    client = as_user(cast.caregiver)
    assert_error(client.post(f"{_consents_url(cast)}/{consent.pk}/revoke"), 403, "forbidden")
    assert_error(client.post(_consents_url(cast), {"kind": "research"}, content_type="application/json"),
                 403, "forbidden")
    assert Consent.objects.count() == 1


def test_patient_cannot_record_treatment_consent(cast: Cast) -> None:
    response = as_user(cast.patient_user).post(_consents_url(cast), {"kind": "treatment"},
                                               content_type="application/json")
    assert_error(response, 403, "forbidden")


def test_consent_update_with_version(cast: Cast) -> None:
    consent = Consent.objects.get(patient=cast.pat)
    url = f"{_consents_url(cast)}/{consent.pk}"
    client = as_user(cast.navigator)
    response = client.patch(url, {"proxy_scope": "message", "version": 1}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["proxy_scope"] == "message" and response.json()["version"] == 2
    assert_error(client.patch(url, {"note": "x"}, content_type="application/json", HTTP_IF_MATCH='W/"1"'),
                 412, "conflict")
    consent.refresh_from_db()
    assert (consent.note, consent.version) == ("", 2)


def test_consent_bad_input_is_422_and_nothing_changes(cast: Cast) -> None:
    client = as_user(cast.navigator)
    before = (Consent.objects.count(), AuditEvent.objects.count())
    for payload in (
        {"kind": "data_sharing"},
        {"kind": "data_sharing", "grantee_organization": "nowhere"},
        {"kind": "caregiver_proxy", "proxy_scope": "view"},
        {"kind": "treatment", "period_start": "2026-02-01", "period_end": "2026-01-01"},
        {"kind": "marriage"},
    ):
        response = client.post(_consents_url(cast), payload, content_type="application/json")
        assert_error(response, 422, "processing")
    assert (Consent.objects.count(), AuditEvent.objects.count()) == before


def test_consent_token_scopes(cast: Cast) -> None:
    read = bearer(cast.lead, "system/Consent.rs")
    assert len(Client().get(_consents_url(cast), **read).json()) == 1
    assert_error(Client().post(_consents_url(cast), {"kind": "treatment"}, content_type="application/json", **read),
                 403, "forbidden")
    assert_error(Client().get(_consents_url(cast), **bearer(cast.lead, "system/Patient.rs")), 403, "forbidden")
    partner = bearer(cast.partner, "system/Consent.rs")
    assert_error(Client().get(_consents_url(cast), **partner), 404, "not-found")


def test_consent_patch_clears_nullable_fields_but_refuses_null_elsewhere(cast: Cast) -> None:
    consent = Consent.objects.create(patient=cast.pat, kind=ConsentKind.RESEARCH, organization=cast.lead,
                                     period_start="2026-01-01", period_end="2026-12-31")
    url = f"{_consents_url(cast)}/{consent.pk}"
    client = as_user(cast.navigator)
    response = client.patch(url, {"period_end": None, "version": 1}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["period_end"] is None and response.json()["period_start"] == "2026-01-01"
    body = assert_error(client.patch(url, {"status": None, "version": 2}, content_type="application/json"),
                        422, "processing")
    assert "status" in body["fields"]  # type: ignore[operator]
    consent.refresh_from_db()
    assert (consent.status, consent.version) == (ConsentStatus.ACTIVE, 2)
