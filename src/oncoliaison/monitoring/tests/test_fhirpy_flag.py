"""A connected app reports symptoms over real HTTP with the fhirpy client library (SyncFHIRClient) against a
live server: client-credentials token, ESAS-r QuestionnaireResponse create (severe pain), then the resulting
alert found and read as a Flag — and refused without the Flag scope, invisible to another organisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from fhir.resources.R4B.flag import Flag
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError, ResourceNotFound

from oncoliaison.accounts.services import api_client_create
from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.monitoring.fhir.common import CS_ALERT, CS_FLAG_CATEGORY, EXT_DEADLINE, EXT_WORKFLOW
from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert, SymptomReport

pytestmark = pytest.mark.django_db(transaction=True)
# One request per connection: the live server's request threads end with each response instead of lingering
# on keep-alive sockets past the test (they share the test database).
CLOSE = {"Connection": "close"}
TIMEOUT = 30


@pytest.fixture
def fhir_base(live_server) -> str:  # type: ignore[no-untyped-def]
    load_instruments()  # the live server's database is emptied between transactional tests
    return f"{live_server.url}/fhir"


def _client(fhir_base: str, organization: Any, scopes: str) -> SyncFHIRClient:
    """A registered system client of ``organization``, signed in over HTTP (client_secret_basic)."""
    registered = api_client_create(organization=organization, scopes=scopes)
    response = requests.post(f"{fhir_base}/auth/token", data={"grant_type": "client_credentials"},
                             auth=(registered.client_id, registered.client_secret), headers=CLOSE, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"].lower() == "bearer"
    return SyncFHIRClient(fhir_base, authorization=f"Bearer {token['access_token']}", extra_headers=CLOSE,
                          requests_config={"timeout": TIMEOUT})


def _esas(patient_id: int, values: list[int], text: str = "") -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"linkId": f"esas-{n}", "answer": [{"valueInteger": v}]}
                                   for n, v in enumerate(values, start=1)]
    if text:
        items.append({"linkId": "anything-else", "answer": [{"valueString": text}]})
    return {
        "status": "completed",
        "questionnaire": f"{QUESTIONNAIRE_BASE}/esas-r",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "identifier": {"system": "urn:oid:2.16.840.1.113883.3.999.42", "value": "app-report-0001"},
        "item": items,
    }


def test_fhirpy_posts_a_questionnaire_response_and_reads_the_flag(cast, fhir_base):
    app = _client(fhir_base, cast.lead, "system/QuestionnaireResponse.cr system/Flag.rs")

    # ESAS-r: pain 9 of 10 (item 1) is severe.
    response = app.resource("QuestionnaireResponse", **_esas(cast.pat.pk, [9, 3, 1, 2, 2, 1, 1, 2, 4]))
    response.save()
    assert response.id and response.id.startswith("symptom-")
    report = SymptomReport.objects.get(pk=int(response.id.removeprefix("symptom-")))
    assert report.patient_id == cast.pat.pk and report.source == "fhir"
    alert = Alert.objects.get(report=report)
    assert alert.severity == "severe"

    # search: the patient's flags (fhirpy sends GET Flag?patient=Patient/<id>)
    flags = app.resources("Flag").search(patient=f"Patient/{cast.pat.pk}").fetch()
    assert [f.id for f in flags] == [str(alert.pk)]
    active = app.resources("Flag").search(patient=f"Patient/{cast.pat.pk}", status="active").fetch()
    assert [f.id for f in active] == [str(alert.pk)]
    assert app.resources("Flag").search(patient=f"Patient/{cast.pat.pk}", status="inactive").fetch() == []

    # read
    flag = app.reference("Flag", flags[0].id).to_resource()
    Flag.model_validate(flag.serialize())
    assert flag["status"] == "active"
    assert flag["subject"]["reference"] == f"Patient/{cast.pat.pk}"
    assert flag["code"]["coding"][0]["system"] == CS_ALERT
    assert flag["code"]["coding"][0]["code"] == "severe"
    assert "Pain" in flag["code"]["text"]
    assert flag["category"][0]["coding"][0] == {"system": CS_FLAG_CATEGORY, "code": "clinical",
                                                "display": "Clinical"}
    extensions = {e["url"]: e for e in flag["extension"]}
    assert extensions[EXT_WORKFLOW]["valueCode"] == "open"
    deadline = dt.datetime.fromisoformat(extensions[EXT_DEADLINE]["valueDateTime"].replace("Z", "+00:00"))
    assert deadline == alert.deadline.replace(microsecond=alert.deadline.microsecond // 1000 * 1000)
    assert dt.timedelta(minutes=55) < deadline - alert.created_at <= dt.timedelta(hours=1)  # severe: 1 hour
    assert flag["author"]["reference"] == f"Organization/{cast.lead.pk}"

    # the reads were audited for the patient, on the FHIR channel
    assert AuditEvent.objects.filter(channel="fhir", resource_type="Flag", action="read",
                                     patient_id=cast.pat.pk).exists()

    # requires the right scope: a token without Flag.r is refused (403) on search and read
    no_flags = _client(fhir_base, cast.lead, "system/QuestionnaireResponse.cr")
    with pytest.raises(ForbiddenError):
        no_flags.resources("Flag").search(patient=f"Patient/{cast.pat.pk}").fetch()
    with pytest.raises(ForbiddenError):
        no_flags.reference("Flag", str(alert.pk)).to_resource()
    # ... and a token that may only read cannot report
    read_only = _client(fhir_base, cast.lead, "system/Flag.rs")
    with pytest.raises(ForbiddenError):
        read_only.resource("QuestionnaireResponse", **_esas(cast.pat.pk, [1] * 9)).save()

    # hides other organisations: the partner's token gets the same 404 as for a Flag that does not exist
    partner = _client(fhir_base, cast.partner, "system/QuestionnaireResponse.cr system/Flag.rs")
    with pytest.raises(ResourceNotFound) as hidden:
        partner.reference("Flag", str(alert.pk)).to_resource()
    with pytest.raises(ResourceNotFound) as missing:
        partner.reference("Flag", "999999999").to_resource()
    assert str(hidden.value) == str(missing.value)
    assert partner.resources("Flag").search(patient=f"Patient/{cast.pat.pk}").fetch() == []
    assert partner.resources("Flag").fetch() == []
    # nor may it report for a patient it cannot see (404, nothing stored)
    with pytest.raises(ResourceNotFound):
        partner.resource("QuestionnaireResponse", **_esas(cast.pat.pk, [9] * 9)).save()
    assert SymptomReport.objects.count() == 1
