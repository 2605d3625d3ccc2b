"""Inputs that used to end in a 500 (or abort an import) get a 4xx with a clear message and change nothing.

Found by the fuzz suites (``tests/fuzz``); each case here is the smallest request that showed it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user
from oncoliaison.patients.models import Consent
from oncoliaison.testing import Cast

HUGE = 2**63  # one above the largest primary key either database can hold


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(depth):
        value = {"url": "http://example.org/x", "extension": [value]}
    return value


@pytest.fixture
def fhir(cast: Cast) -> Client:
    issued = api_client_create(organization=cast.lead, scopes="system/*.cruds")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    return Client(headers={"Authorization": f"Bearer {token}"})


# --- ids beyond 2**63 - 1 ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", [
    {"patient": f"Patient/{HUGE}"}, {"subject": str(HUGE)}, {"_id": str(HUGE)},
    {"patient": "Patient/99999999999999999999999999"},
])
def test_fhir_search_references_beyond_any_id_match_nothing(fhir: Client, query: dict[str, str]) -> None:
    for rtype in ("Observation", "Condition", "CareTeam", "Consent", "Flag", "ServiceRequest"):
        response = fhir.get(f"/fhir/{rtype}", query)
        if response.status_code == 400 and response.json()["issue"][0]["code"] == "not-supported":
            continue  # this type has no such parameter
        assert response.status_code == 200, (rtype, response.content)
        assert response.json()["total"] == 0


@pytest.mark.django_db
def test_fhir_reads_and_writes_naming_an_id_beyond_any_id_are_not_found_or_refused(fhir: Client, cast: Cast) -> None:
    assert fhir.get(f"/fhir/Patient/{HUGE}").status_code == 404
    consent = {"resourceType": "Consent", "status": "active", "scope": {"coding": [{"code": "patient-privacy"}]},
               "category": [{"coding": [{"code": "59284-0"}]}], "patient": {"reference": f"Patient/{cast.pat.pk}"},
               "provision": {"actor": [{"role": {"text": "grantee"},
                                        "reference": {"reference": f"Organization/{HUGE}"}}]}}
    response = fhir.post("/fhir/Consent", json.dumps(consent), content_type="application/fhir+json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.django_db
def test_json_api_ids_beyond_any_id(cast: Cast) -> None:
    client = as_user(cast.navigator)
    assert client.get(f"/api/patients/{HUGE}").status_code == 404
    for path, query in (("/api/referrals", {"patient_id": HUGE}), ("/api/audit-events", {"patient_id": HUGE}),
                        ("/api/messages/threads", {"patient_id": HUGE})):
        response = client.get(path, query)
        assert response.status_code in {403, 422}, (path, response.content)
    before = Consent.objects.count()
    response = client.post(f"/api/patients/{cast.pat.pk}/consents", {
        "kind": "caregiver_proxy", "status": "active", "grantee_user_id": HUGE - 1, "proxy_scope": "view",
    }, content_type="application/json")
    assert response.status_code == 422 and "grantee_user" in response.json()["fields"]
    assert Consent.objects.count() == before


# --- nesting, multipart, empty instrument, numbers as dates -------------------------------------------


@pytest.mark.django_db
def test_fhir_resources_nested_150_levels_are_refused(fhir: Client, cast: Cast) -> None:
    deep = json.dumps({"resourceType": "Patient", "extension": [_nested(150)]})
    for method, path in (("post", "/fhir/Patient"), ("put", f"/fhir/Patient/{cast.pat.pk}")):
        response = getattr(fhir, method)(path, deep, content_type="application/fhir+json")
        assert response.status_code == 400, response.content
        assert "nested deeper than" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.django_db
def test_a_session_request_with_a_multipart_body_without_boundary_is_400(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)  # the CSRF check reads the form body first
    client.get("/accounts/login/")
    client.force_login(cast.navigator)
    events = AuditEvent.objects.count()
    response = client.post("/api/patients", b"--x\r\n\r\n", content_type="multipart/form-data")
    assert response.status_code == 400, response.content
    assert "multipart" in response.json()["message"]
    with_token = client.post("/api/patients", b"--x\r\n\r\n", content_type="multipart/form-data",
                             headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert with_token.status_code == 400, with_token.content
    fhir = client.post("/fhir/Patient/_search", b"--x", content_type="multipart/form-data")
    assert fhir.status_code in {400, 415} and fhir.json()["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_symptom_report_naming_no_instrument_is_422(cast: Cast) -> None:
    load_instruments(cast)
    response = as_user(cast.navigator).post(f"/api/patients/{cast.pat.pk}/symptom-reports",
                                            {"instrument": "", "answers": {"pain": 3}},
                                            content_type="application/json")
    assert response.status_code == 422, response.content
    assert "instrument" in response.json()["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0.5", "0", "1e9", "1700000000"])
def test_date_parameters_take_iso_dates_not_numbers(cast: Cast, value: str) -> None:
    client = as_user(cast.admin)
    for path, name in (("/api/referrals", "received_to"), ("/api/audit-events", "until")):
        response = client.get(path, {name: value})
        assert response.status_code == 422, (path, value, response.content)
        assert name in response.json()["fields"]
    response = client.post("/api/patients/search", {"birth_date": value}, content_type="application/json")
    assert response.status_code == 422


@pytest.mark.django_db
def test_booleans_and_integers_are_json_booleans_and_integers(cast: Cast) -> None:
    client = as_user(cast.navigator)
    response = client.patch(f"/api/patients/{cast.pat.pk}", {"active": 0, "version": False},
                            content_type="application/json")
    assert response.status_code == 422
    assert {"active", "version"} <= set(response.json()["fields"])


@pytest.mark.django_db
def test_a_json_body_that_is_not_an_object_is_400(cast: Cast) -> None:
    response = as_user(cast.navigator).post("/api/patients/search", "[null, null]", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_an_assessment_answer_that_is_a_boolean_is_422_not_500(cast: Cast) -> None:
    load_instruments(cast)
    response = as_user(cast.navigator).post(f"/api/patients/{cast.pat.pk}/assessments", {
        "instrument": "nccn-dt", "answers": {"distress": [6], "problems-practical": [False]},
    }, content_type="application/json")
    assert response.status_code == 422, response.content


@pytest.mark.django_db
def test_a_time_without_an_offset_is_read_in_the_servers_zone_not_a_500(cast: Cast) -> None:
    load_instruments(cast)
    response = as_user(cast.navigator).post(f"/api/patients/{cast.pat.pk}/assessments", {
        "instrument": "nccn-dt", "answers": {"distress": [6]}, "started_at": "2000-01-01",
        "authored_at": "2000-01-01T00:10:00",
    }, content_type="application/json")
    assert response.status_code in {201, 422}, response.content


@pytest.mark.django_db
def test_every_page_route_naming_an_id_beyond_any_id_is_not_found(cast: Cast) -> None:
    """An id one above what the database can hold, in any page or API route with an integer in its path, is the
    same "not found" (or "not for you") as a missing record — never a server error from the database."""
    from django.urls import URLPattern, URLResolver, get_resolver, reverse
    from django.urls.converters import IntConverter

    def walk(resolver: URLResolver, ns: str = ""):  # type: ignore[no-untyped-def]
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p, f"{ns}{p.namespace}:" if p.namespace else ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}{p.name}", p

    client = Client(raise_request_exception=False)
    client.force_login(cast.navigator)
    tried = 0
    for name, pattern in walk(get_resolver()):
        converters = getattr(pattern.pattern, "converters", {})
        if not converters or not all(isinstance(c, IntConverter) for c in converters.values()):
            continue
        url = reverse(name, kwargs={key: HUGE for key in converters})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code < 500, (method, url, response.status_code)
        tried += 1
    assert tried > 40  # the walk found the routes
