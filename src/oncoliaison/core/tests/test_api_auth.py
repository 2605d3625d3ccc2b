"""JSON API: authentication (bearer token or session + CSRF), the error shape, and GET /api/me.

The helpers at the top (``bearer``, ``as_user``) are shared by the other test_api* modules.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from oncoliaison.accounts.models import ApiToken
from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.models import AuditEvent
from oncoliaison.organisations.models import Organization
from oncoliaison.testing import Cast


def bearer(organization: Organization, scopes: str) -> dict[str, str]:
    """Headers for a fresh API client of ``organization`` holding ``scopes``."""
    issued = api_client_create(organization=organization, scopes=scopes, name="Test system")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret)
    return {"HTTP_AUTHORIZATION": f"Bearer {token.access_token}"}


def as_user(user: object, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)  # type: ignore[arg-type]
    return client


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "message", "fields"}
    assert body["error"] == code
    return body  # type: ignore[no-any-return]


# --- authentication ---------------------------------------------------------------------------------


def test_no_credentials_is_401_in_the_error_shape(cast: Cast) -> None:
    response = Client().get("/api/me")
    assert_error(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error(Client().get(f"/api/patients/{cast.pat.pk}"), 401, "login")
    assert_error(Client().post("/api/patients", {}, content_type="application/json"), 401, "login")


def test_unknown_or_expired_token_is_401_and_never_falls_back_to_the_session(cast: Cast) -> None:
    client = as_user(cast.navigator)
    assert_error(client.get("/api/me", HTTP_AUTHORIZATION="Bearer not-a-token"), 401, "login")
    headers = bearer(cast.lead, "system/Patient.rs")
    ApiToken.objects.update(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert_error(client.get("/api/me", **headers), 401, "login")


def test_other_authorization_schemes_are_not_accepted(cast: Cast) -> None:
    assert_error(Client().get("/api/me", HTTP_AUTHORIZATION="Basic Z3JhY2U6cGFzcw=="), 401, "login")


def test_session_post_requires_the_csrf_token(cast: Cast) -> None:
    client = as_user(cast.navigator, csrf=True)
    before = AuditEvent.objects.filter(outcome="success").count()
    response = client.post("/api/patients/search", {"q": "pat"}, content_type="application/json")
    body = assert_error(response, 403, "forbidden")
    assert "CSRF" in str(body["message"])
    assert AuditEvent.objects.filter(outcome="success").count() == before  # nothing was disclosed
    assert AuditEvent.objects.filter(action="access_denied", user_id=cast.navigator.pk).count() == 1  # the refusal
    # With the token from the cookie (as the pages' JavaScript sends it) the same request works.
    client.get("/api/docs")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/patients/search", {"q": "pat"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["items"]] == [cast.pat.pk]


def test_safe_session_requests_need_no_csrf_token(cast: Cast) -> None:
    assert as_user(cast.navigator, csrf=True).get("/api/me").status_code == 200


def test_bearer_requests_need_no_csrf_token(cast: Cast) -> None:
    headers = bearer(cast.lead, "system/Patient.rs")
    response = Client(enforce_csrf_checks=True).post(
        "/api/patients/search", {"q": "pat"}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content


def test_staff_without_the_required_second_factor_are_not_signed_in_for_the_api(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MFA_REQUIRED_FOR_STAFF = True
    client = as_user(cast.navigator)
    assert_error(client.get("/api/me"), 401, "login")
    session = client.session
    session["mfa_verified"] = True
    session.save()
    assert client.get("/api/me").status_code == 200
    # Patients are not staff: the staff requirement does not apply to them.
    assert as_user(cast.patient_user).get("/api/me").status_code == 200


def test_inactive_user_session_is_refused(cast: Cast) -> None:
    client = as_user(cast.navigator)
    cast.navigator.is_active = False
    cast.navigator.save()
    assert_error(client.get("/api/me"), 401, "login")


# --- errors -------------------------------------------------------------------------------------------


def test_schema_validation_errors_are_422_with_fields(cast: Cast) -> None:
    response = as_user(cast.navigator).post(
        "/api/patients", {"given_name": "Ann", "birth_date": "not-a-date", "gender": "robot"},
        content_type="application/json",
    )
    body = assert_error(response, 422, "processing")
    fields = body["fields"]
    assert isinstance(fields, dict)
    assert {"family_name", "birth_date", "gender"} <= set(fields)


def test_unparseable_json_is_400_in_the_error_shape(cast: Cast) -> None:
    response = as_user(cast.navigator).post("/api/patients", "{not json", content_type="application/json")
    assert_error(response, 400, "invalid")


def test_unknown_api_path_is_404_in_the_error_shape(cast: Cast) -> None:
    client = as_user(cast.navigator)
    assert_error(client.get("/api/patients/not-a-number"), 404, "not-found")
    assert_error(client.delete("/api/no-such-thing/at/all"), 404, "not-found")
    assert_error(Client().get("/api/nothing-here"), 404, "not-found")


# --- /api/me --------------------------------------------------------------------------------------------


def test_me_for_staff_lists_roles_per_organisation(cast: Cast) -> None:
    body = as_user(cast.navigator).get("/api/me").json()
    assert body["kind"] == "staff"
    assert body["user_id"] == cast.navigator.pk
    assert body["display_name"] == "Grace Navigator"
    assert body["roles"] == [
        {"organization": "lead", "organization_name": "Lead Cancer Program",
         "organization_kind": "lead_program", "role": "navigator"}
    ]
    assert body["scopes"] == [] and body["client_id"] is None


def test_me_for_patient_and_caregiver(cast: Cast) -> None:
    body = as_user(cast.patient_user).get("/api/me").json()
    assert body["kind"] == "patient" and body["patient_id"] == cast.pat.pk and body["roles"] == []
    body = as_user(cast.caregiver).get("/api/me").json()
    assert body["kind"] == "caregiver" and body["patient_id"] is None


def test_me_for_an_api_client_shows_organisation_and_scopes(cast: Cast) -> None:
    body = Client().get("/api/me", **bearer(cast.partner, "system/Patient.rs system/Consent.read")).json()
    assert body["kind"] == "system"
    assert body["organization"] == "partner"
    assert body["client_id"].startswith("olc_")
    assert body["scopes"] == ["system/Consent.rs", "system/Patient.rs"]
    assert body["user_id"] is None


@pytest.mark.parametrize("path", ["/api/me", "/api/organisations"])
def test_api_answers_are_not_cached(cast: Cast, path: str) -> None:
    response = as_user(cast.navigator).get(path)
    assert response["Cache-Control"] == "no-store"


def test_unexpected_errors_are_json_500_and_log_no_data(cast: Cast, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from oncoliaison.patients import selectors

    mrn = "L-" + "1001"

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"value {mrn} leaked")

    monkeypatch.setattr(selectors, "access_patient", boom)
    response = as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}")
    assert_error(response, 500, "server")
    assert "RuntimeError" in caplog.text and "L-1001" not in caplog.text


def test_oversized_body_is_413_and_nothing_changes(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    from oncoliaison.patients.models import Patient

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    count = Patient.objects.count()
    body = {"given_name": "A", "family_name": "B" * 5000, "birth_date": "1970-01-01", "gender": "female"}
    response = as_user(cast.navigator).post("/api/patients", body, content_type="application/json")
    assert_error(response, 413, "too-large")
    assert Patient.objects.count() == count
