"""FHIR MedicationDispense and the PDC Observation over HTTP: a client posts fills and reads the PDC; valid R4
output; scoping; scopes; idempotent identifiers; batch Bundles; the patient compartment."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.adherence.fhir import CS_ADHERENCE
from oncoliaison.adherence.models import AdherenceMeasure, Dispense
from oncoliaison.core import clock
from oncoliaison.testing import Cast

FHIR_JSON = "application/fhir+json"
TODAY = dt.date(2026, 6, 30)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _token(organization, scopes: str = "system/*.cruds") -> str:  # type: ignore[no-untyped-def]
    issued = api_client_create(organization=organization, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _get(token: str, path: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    return Client().get(f"/fhir{path}", params or {}, headers={"Authorization": f"Bearer {token}", "Accept": FHIR_JSON})


def _post(token: str, path: str, body: dict):  # type: ignore[no-untyped-def]
    return Client().post(f"/fhir{path}", orjson.dumps(body), content_type=FHIR_JSON,
                         headers={"Authorization": f"Bearer {token}"})


def _valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def dispense(patient_id: int, day: str, days: int = 30, ident: str = "") -> dict:
    out: dict = {"resourceType": "MedicationDispense", "status": "completed",
                 "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "194000",
                                                           "display": "capecitabine"}]},
                 "subject": {"reference": f"Patient/{patient_id}"}, "whenHandedOver": day,
                 "daysSupply": {"value": days, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
                 "quantity": {"value": 112, "unit": "tablet"}}
    if ident:
        out["identifier"] = [{"system": "urn:example:pharmacy", "value": ident}]
    return out


def test_a_client_posts_dispenses_and_reads_the_pdc(cast: Cast) -> None:
    token = _token(cast.lead)
    first = _post(token, "/MedicationDispense", dispense(cast.pat.pk, "2026-01-02", ident="rx-1"))
    assert first.status_code == 201, first.content
    body = _valid(orjson.loads(first.content))
    assert body["daysSupply"]["value"] == 30 and body["whenHandedOver"] == "2026-01-02"
    again = _post(token, "/MedicationDispense", dispense(cast.pat.pk, "2026-01-02", ident="rx-1"))
    assert orjson.loads(again.content)["id"] == body["id"] and Dispense.objects.count() == 1
    assert _post(token, "/MedicationDispense", dispense(cast.pat.pk, "2026-02-01")).status_code == 201
    read = _get(token, f"/MedicationDispense/{body['id']}")
    assert read.status_code == 200 and _valid(orjson.loads(read.content))["identifier"][0]["value"] == "rx-1"
    found = orjson.loads(_get(token, "/MedicationDispense", {"patient": f"Patient/{cast.pat.pk}"}).content)
    assert found["total"] == 2
    obs = orjson.loads(_get(token, "/Observation", {"patient": cast.pat.pk, "code": f"{CS_ADHERENCE}|pdc"}).content)
    assert obs["total"] == 1
    pdc = _valid(obs["entry"][0]["resource"])
    assert pdc["id"].startswith("pdc-") and pdc["status"] == "preliminary"
    assert pdc["effectivePeriod"] == {"start": "2026-01-01", "end": "2026-06-30"}
    # 60 days covered from 2 January to 30 June (180 days).
    assert pdc["valueQuantity"]["value"] == pytest.approx(33.33) and pdc["valueQuantity"]["code"] == "%"
    parts = {c["code"]["coding"][0]["code"]: c for c in pdc["component"]}
    assert parts["covered-days"]["valueQuantity"]["value"] == 60
    assert parts["denominator-days"]["valueQuantity"]["value"] == 180
    assert parts["index-date"]["valueDateTime"] == "2026-01-02"
    assert parts["adherent"]["valueBoolean"] is False
    assert _valid(orjson.loads(_get(token, f"/Observation/{pdc['id']}").content))["id"] == pdc["id"]


def test_a_single_fill_has_no_value_and_a_past_year_is_final(cast: Cast) -> None:
    token = _token(cast.lead)
    _post(token, "/MedicationDispense", dispense(cast.pat.pk, "2025-03-01"))
    past = AdherenceMeasure.objects.get(year=2025)
    body = _valid(orjson.loads(_get(token, f"/Observation/pdc-{past.pk}").content))
    assert body["status"] == "final" and "valueQuantity" not in body
    assert body["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"
    assert AdherenceMeasure.objects.filter(year=2026).exists()  # the current year to date


def test_invalid_dispenses_are_refused(cast: Cast) -> None:
    token = _token(cast.lead)
    bad = dispense(cast.pat.pk, "2026-01-02")
    bad["medicationCodeableConcept"] = {"text": "capecitabine"}
    response = _post(token, "/MedicationDispense", bad)
    assert response.status_code in (400, 422)
    assert orjson.loads(response.content)["resourceType"] == "OperationOutcome"


def test_other_organisations_and_missing_scopes_are_refused(cast: Cast) -> None:
    outsider = _token(cast.partner)
    assert _post(outsider, "/MedicationDispense", dispense(cast.pat.pk, "2026-01-02")).status_code == 404
    d = _post(_token(cast.lead), "/MedicationDispense", dispense(cast.pat.pk, "2026-01-02"))
    did = orjson.loads(d.content)["id"]
    assert _get(outsider, f"/MedicationDispense/{did}").status_code == 404
    assert orjson.loads(_get(outsider, "/Observation", {"code": f"{CS_ADHERENCE}|pdc"}).content)["total"] == 0
    read_only = _token(cast.lead, "system/MedicationDispense.rs")
    assert _post(read_only, "/MedicationDispense", dispense(cast.pat.pk, "2026-02-01")).status_code == 403


def test_a_batch_of_dispenses(cast: Cast) -> None:
    token = _token(cast.lead)
    entries = [{"resource": dispense(cast.pat.pk, f"2026-0{m}-01", ident=f"b-{m}"),
                "request": {"method": "POST", "url": "MedicationDispense"}} for m in range(1, 7)]
    entries.append({"resource": dispense(cast.other_patient.pk, "2026-01-01"),
                    "request": {"method": "POST", "url": "MedicationDispense"}})
    response = _post(token, "", {"resourceType": "Bundle", "type": "batch", "entry": entries})
    assert response.status_code == 200, response.content
    bundle = _valid(orjson.loads(response.content))
    statuses = [e["response"]["status"] for e in bundle["entry"]]
    assert statuses == ["201 Created"] * 6 + ["404"]
    m = AdherenceMeasure.objects.get(patient=cast.pat, year=2026)
    assert m.adherent is True and m.follow_up_task_id is None  # computed once, after the whole batch


def test_dispenses_and_pdc_are_in_the_patient_compartment(cast: Cast) -> None:
    token = _token(cast.lead)
    _post(token, "/MedicationDispense", dispense(cast.pat.pk, "2026-01-02"))
    everything = orjson.loads(_get(token, f"/Patient/{cast.pat.pk}/$everything").content)
    types = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert "MedicationDispense" in types
    assert any(e["resource"]["id"].startswith("pdc-") for e in everything["entry"]
               if e["resource"]["resourceType"] == "Observation")
