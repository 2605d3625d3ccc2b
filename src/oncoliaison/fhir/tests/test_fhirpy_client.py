"""The FHIR API driven over real HTTP by the fhirpy client library (SyncFHIRClient) against a live server."""

from __future__ import annotations

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, MultipleResourcesFound, ResourceNotFound

from oncoliaison.accounts.services import api_client_create
from oncoliaison.core.models import AuditEvent

from .conftest import patient_resource

pytestmark = pytest.mark.django_db(transaction=True)
# One request per connection: the live server's request threads end with each response instead of
# lingering on keep-alive sockets past the test (they share the in-memory test database).
CLOSE = {"Connection": "close"}


@pytest.fixture
def fhir_base(live_server) -> str:  # type: ignore[no-untyped-def]
    return f"{live_server.url}/fhir"


def test_fhirpy_token_create_read_search_and_versioned_update(cast, fhir_base):
    registered = api_client_create(organization=cast.lead, scopes="system/Patient.crus")
    # OAuth 2.0 client credentials over HTTP (client_secret_basic).
    token_response = requests.post(f"{fhir_base}/auth/token", data={"grant_type": "client_credentials"},
                                   auth=(registered.client_id, registered.client_secret), timeout=10,
                                   headers=CLOSE)
    assert token_response.status_code == 200, token_response.text
    token = token_response.json()["access_token"]
    client = SyncFHIRClient(fhir_base, authorization=f"Bearer {token}", extra_headers=CLOSE)

    # create
    patient = client.resource("Patient", **patient_resource())
    patient.save()
    assert patient.id
    assert patient["meta"]["versionId"] == "1"

    # read
    fetched = client.reference("Patient", patient.id).to_resource()
    assert fetched["name"][0]["family"] == "Rivera"
    assert fetched["birthDate"] == "1970-05-17"

    # search (and fhirpy follows our next links when fetching everything)
    found = client.resources("Patient").search(identifier="L-5001").fetch()
    assert [p.id for p in found] == [patient.id]
    # (fhirpy's count() sends Aidbox's non-standard _totalMethod; read Bundle.total directly instead)
    assert client.execute("Patient", method="get", params={"family": "rivera", "_count": 0})["total"] == 1
    everyone = client.resources("Patient").limit(1).fetch_all()
    assert {p.id for p in everyone} == {patient.id, str(cast.pat.pk)}

    # conditional (version-aware) update with If-Match
    versioned = SyncFHIRClient(fhir_base, authorization=f"Bearer {token}", extra_headers={**CLOSE, "If-Match": 'W/"1"'})
    editable = versioned.reference("Patient", patient.id).to_resource()
    editable["telecom"] = [{"system": "phone", "value": "555-0188", "use": "mobile"}]
    editable.save()
    assert editable["meta"]["versionId"] == "2"
    assert client.reference("Patient", patient.id).to_resource()["telecom"][0]["value"] == "555-0188"

    # the same If-Match is now stale: 412 Precondition Failed (fhirpy reports it as MultipleResourcesFound)
    editable["active"] = False
    with pytest.raises(MultipleResourcesFound) as stale:
        editable.save()
    assert "version" in str(stale.value)
    assert client.reference("Patient", patient.id).to_resource()["active"] is True

    # the audit trail saw the reads
    assert AuditEvent.objects.filter(channel="fhir", action="read", patient_id=int(patient.id)).exists()


def test_fhirpy_sees_refusals(cast, fhir_base):
    anonymous = SyncFHIRClient(fhir_base, extra_headers=CLOSE)
    with pytest.raises(AuthorizationError):
        anonymous.resources("Patient").fetch()
    registered = api_client_create(organization=cast.partner, scopes="system/Patient.rs")
    token = requests.post(f"{fhir_base}/auth/token", timeout=10, headers=CLOSE, data={
        "grant_type": "client_credentials", "client_id": registered.client_id,
        "client_secret": registered.client_secret}).json()["access_token"]
    partner = SyncFHIRClient(fhir_base, authorization=f"Bearer {token}", extra_headers=CLOSE)
    with pytest.raises(ResourceNotFound):
        partner.reference("Patient", str(cast.pat.pk)).to_resource()
    assert partner.resources("Patient").search(identifier="L-1001").fetch() == []
