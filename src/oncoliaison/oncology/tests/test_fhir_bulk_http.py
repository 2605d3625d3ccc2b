"""Bulk Data $export over real HTTP, as the Bulk Data Access IG describes it, against a live server:
client-credentials token, kick-off with Prefer: respond-async, status polling, NDJSON download."""

from __future__ import annotations

import time

import orjson
import pytest
import requests
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import api_client_create
from oncoliaison.patients.models import Consent, ConsentKind, Patient
from oncoliaison.testing import Cast

from .test_fhir_mappers import import_mcode

pytestmark = pytest.mark.django_db(transaction=True)
CLOSE = {"Connection": "close"}


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "oncoliaison.fhir.tests.urls"
    settings.VAR_DIR = tmp_path


def _token(base: str, organization: object, scopes: str = "system/*.rs") -> str:
    registered = api_client_create(organization=organization, scopes=scopes)
    response = requests.post(f"{base}/auth/token", data={"grant_type": "client_credentials"},
                             auth=(registered.client_id, registered.client_secret), timeout=10, headers=CLOSE)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bulk_export(base: str, path: str, token: str, **query: str) -> dict[str, list[dict]]:
    auth = {"Authorization": f"Bearer {token}", **CLOSE}
    kick = requests.get(f"{base}{path}", params=query, timeout=30,
                        headers={**auth, "Accept": "application/fhir+json", "Prefer": "respond-async"})
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]
    deadline = time.monotonic() + 60
    while True:
        polled = requests.get(status_url, headers=auth, timeout=30)
        if polled.status_code == 200:
            break
        assert polled.status_code == 202 and "X-Progress" in polled.headers
        assert time.monotonic() < deadline
        time.sleep(float(polled.headers.get("Retry-After", "1")))
    manifest = polled.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    out: dict[str, list[dict]] = {}
    for item in manifest["output"]:
        assert requests.get(item["url"], headers=CLOSE, timeout=30).status_code == 401
        got = requests.get(item["url"], headers={**auth, "Accept": "application/fhir+ndjson"}, timeout=30)
        assert got.status_code == 200 and got.headers["Content-Type"] == "application/fhir+ndjson"
        lines = got.content.splitlines()
        assert len(lines) == item["count"]
        out[item["type"]] = [orjson.loads(line) for line in lines]
    assert requests.delete(status_url, headers=auth, timeout=30).status_code == 202
    return out


def test_bulk_export_over_http_with_consent(cast: Cast, live_server) -> None:  # type: ignore[no-untyped-def]
    import_mcode(cast)
    base = f"{live_server.url}/fhir"
    lead = bulk_export(base, "/$export", _token(base, cast.lead))
    for resources in lead.values():
        for r in resources:
            get_fhir_model_class(r["resourceType"]).model_validate(r)
    assert len(lead["Patient"]) == Patient.objects.filter(organization=cast.lead).count()

    shared = Patient.objects.filter(organization=cast.lead, conditions__isnull=False).order_by("pk").first()
    assert shared is not None
    Consent.objects.create(patient=shared, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    partner = bulk_export(base, f"/Group/{cast.lead.pk}/$export", _token(base, cast.partner), _type="Patient,Condition")
    assert [p["id"] for p in partner["Patient"]] == [str(shared.pk)]
    assert {c["subject"]["reference"] for c in partner["Condition"]} == {f"Patient/{shared.pk}"}
