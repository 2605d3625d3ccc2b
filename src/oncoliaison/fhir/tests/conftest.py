"""Fixtures for the FHIR tests: API clients, tokens and a small FHIR HTTP helper."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from django.test import Client

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.testing import Cast

FHIR_JSON = "application/fhir+json"


@pytest.fixture(autouse=True)
def _fhir_routes(settings):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "oncoliaison.fhir.tests.urls"


class Fhir:
    """A FHIR caller over Django's test client: a bearer token or a signed-in session."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):  # type: ignore[no-untyped-def]
        return self.client.get(f"/fhir{path}", params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body: Any, content_type: str = FHIR_JSON, **headers: str):  # type: ignore[no-untyped-def]
        data = body if isinstance(body, (str, bytes)) else orjson.dumps(body)
        return self.client.post(f"/fhir{path}", data, content_type=content_type,
                                headers={**self.headers, **headers})

    def search_post(self, rtype: str, form: dict[str, Any], **headers: str):  # type: ignore[no-untyped-def]
        return self.client.post(f"/fhir/{rtype}/_search", urlencode(form, doseq=True),
                                content_type="application/x-www-form-urlencoded", headers={**self.headers, **headers})

    def put(self, path: str, body: Any, content_type: str = FHIR_JSON, **headers: str):  # type: ignore[no-untyped-def]
        data = body if isinstance(body, (str, bytes)) else orjson.dumps(body)
        return self.client.put(f"/fhir{path}", data, content_type=content_type,
                               headers={**self.headers, **headers})


def body(response) -> dict:  # type: ignore[no-untyped-def]
    return orjson.loads(response.content)


@pytest.fixture
def make_token(cast: Cast):  # type: ignore[no-untyped-def]
    def make(organization=None, scopes: str = "system/*.cruds") -> str:  # type: ignore[no-untyped-def]
        issued = api_client_create(organization=organization or cast.lead, scopes=scopes)
        return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token

    return make


@pytest.fixture
def lead_api(make_token) -> Fhir:  # type: ignore[no-untyped-def]
    """A system client of the lead program with every scope."""
    return Fhir(make_token())


@pytest.fixture
def partner_api(make_token, cast: Cast) -> Fhir:  # type: ignore[no-untyped-def]
    return Fhir(make_token(cast.partner))


@pytest.fixture
def session_api(cast: Cast):  # type: ignore[no-untyped-def]
    """A FHIR caller signed in as a cast member (browser session)."""

    def make(user) -> Fhir:  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        return Fhir(client=client)

    return make


def patient_resource(**overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:oid:2.16.840.1.113883.3.999.1",
            "value": "L-5001",
        }],
        "active": True,
        "name": [{"use": "official", "family": "Rivera", "given": ["Ana", "Lucia"]}],
        "telecom": [{"system": "phone", "value": "555-0142", "use": "home"},
                    {"system": "email", "value": "ana.rivera@example.org"}],
        "gender": "female",
        "birthDate": "1970-05-17",
        "address": [{"line": ["12 Maple Ave"], "city": "Riverside", "state": "OH", "postalCode": "45001",
                     "country": "US"}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]},
                           "preferred": True}],
        "deceasedBoolean": False,
        "meta": {"tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
    }
    resource.update(overrides)
    return resource
