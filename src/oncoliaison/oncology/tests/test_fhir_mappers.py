"""Read and search of the cancer record over FHIR: mCODE profiles, R4 validity, search parameters, access."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.oncology import models as m
from oncoliaison.oncology.fhir import RECORD_MAPPERS
from oncoliaison.oncology.importing import bundle_import, import_review_resolve, system_actor_for
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import Cast

from .fixtures import mcode_collection, synthea_bundle, synthea_paths


@pytest.fixture(autouse=True)
def _fhir_routes(settings):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "oncoliaison.fhir.tests.urls"


def import_mcode(cast: Cast) -> None:
    result = bundle_import(actor=system_actor_for(cast.lead.pk), bundle=mcode_collection(), source="urn:mcode")
    assert result.rejected == []
    for review in m.ImportReview.objects.filter(status="pending"):
        import_review_resolve(actor=cast.actor(cast.navigator), review=review, decision="create")


def import_synthea(cast: Cast, count: int | None = None) -> None:
    for path in synthea_paths()[:count]:
        bundle_import(actor=system_actor_for(cast.lead.pk), bundle=synthea_bundle(path), source="urn:synthea",
                      synthetic=True)


def token(cast: Cast, organization: Any = None, scopes: str = "system/*.rs") -> str:
    issued = api_client_create(organization=organization or cast.lead, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def get(path: str, tok: str | None, **query: str) -> Any:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return Client().get(f"/fhir{path}", query, headers=headers)


def validate(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def rendered(cast: Cast) -> list[dict[str, Any]]:
    actor = system_actor_for(cast.lead.pk)
    out = []
    for mapper in RECORD_MAPPERS:
        for row in mapper.queryset_for(actor):
            out.append(mapper.to_fhir(row))
    return out


def test_every_mapped_mcode_resource_is_valid_r4_with_a_profile(cast: Cast) -> None:
    import_mcode(cast)
    resources = rendered(cast)
    assert len(resources) > 30
    for resource in resources:
        validate(resource)
        if resource["resourceType"] != "Observation" or not resource["id"].isdigit():
            assert resource["meta"]["profile"], resource["resourceType"]
        orjson.dumps(resource)
    profiles = {p.rsplit("/", 1)[-1] for r in resources for p in r["meta"].get("profile", [])}
    assert {"mcode-primary-cancer-condition", "mcode-secondary-cancer-condition", "mcode-tumor-marker-test",
            "mcode-tnm-stage-group", "mcode-ecog-performance-status", "mcode-cancer-disease-status",
            "mcode-cancer-related-surgical-procedure", "mcode-radiotherapy-course-summary",
            "mcode-cancer-related-medication-request", "mcode-cancer-related-medication-administration",
            "variant"} <= profiles


def test_every_mapped_synthea_resource_is_valid_r4(cast: Cast) -> None:
    import_synthea(cast, 4)
    resources = rendered(cast)
    assert len(resources) > 200
    for resource in resources:
        validate(resource)


# --- read and search over HTTP ------------------------------------------------------------------------------


def search(rtype: str, tok: str, **query: str) -> list[dict[str, Any]]:
    response = get(f"/{rtype}", tok, _count="200", **query)
    assert response.status_code == 200, response.content[:300]
    return [e["resource"] for e in orjson.loads(response.content).get("entry", [])]


def test_read_each_kind_and_audit_per_patient(cast: Cast) -> None:
    import_mcode(cast)
    tok = token(cast)
    for mapper in RECORD_MAPPERS:
        row = mapper.rows_for_patients(list(m.CancerCondition.objects.values_list("patient_id", flat=True))).first()
        if row is None:
            continue
        response = get(f"/{mapper.resource_type}/{mapper.fhir_id(row)}", tok)
        assert response.status_code == 200, (mapper.resource_type, response.content[:200])
        body = orjson.loads(response.content)
        assert body["id"] == mapper.fhir_id(row) and body["meta"]["profile"]
        assert AuditEvent.objects.filter(action=AuditAction.READ, patient_id=row.patient_id,
                                         resource_type=mapper.resource_type).exists()


def test_observation_search_by_patient_code_category_and_date(cast: Cast) -> None:
    import_mcode(cast)
    tok = token(cast)
    marker = m.ClinicalObservation.objects.filter(kind="tumor_marker", effective_at__isnull=False).first()
    assert marker is not None
    pid = marker.patient_id
    everything_of_patient = search("Observation", tok, patient=f"Patient/{pid}")
    assert everything_of_patient and all(r["subject"]["reference"] == f"Patient/{pid}"
                                         for r in everything_of_patient)
    by_code = search("Observation", tok, code=f"{marker.code_system}|{marker.code}")
    assert by_code and all(r["code"]["coding"][0]["code"] == marker.code for r in by_code)
    assert search("Observation", tok, code=f"http://example.org|{marker.code}") == []
    labs = search("Observation", tok, category="laboratory", patient=str(pid))
    assert str(marker.pk) in {r["id"] for r in labs}
    day = marker.effective_at.date().isoformat()  # type: ignore[union-attr]
    assert str(marker.pk) in {r["id"] for r in search("Observation", tok, date=day, patient=str(pid))}
    assert str(marker.pk) not in {r["id"] for r in search("Observation", tok, date=f"gt{day}", patient=str(pid))}
    assert str(marker.pk) in {r["id"] for r in search("Observation", tok, date=f"le{day}", patient=str(pid))}
    stage = m.CancerStage.objects.filter(kind="group").first()
    assert stage is not None
    groups = search("Observation", tok, code=f"{stage.code_system}|{stage.code}")
    assert f"stage-{stage.pk}" in {r["id"] for r in groups}
    ecog = search("Observation", tok, code="http://loinc.org|89247-1")
    assert ecog and all(r["id"].startswith("perf-") for r in ecog)
    assert search("Observation", tok, code="97509-4") and all(
        r["id"].startswith("dstatus-") for r in search("Observation", tok, code="97509-4"))
    assert all(r["id"].startswith("variant-") for r in search("Observation", tok, code="69548-6"))
    assert get("/Observation", tok, date="yesterday").status_code == 400


def test_condition_procedure_and_medication_search(cast: Cast) -> None:
    import_mcode(cast)
    tok = token(cast)
    primaries = search("Condition", tok, category="primary-cancer")
    assert primaries and all("mcode-primary-cancer-condition" in r["meta"]["profile"][0] for r in primaries)
    assert all(r["code"]["coding"][0]["code"] == "254637007"
               for r in search("Condition", tok, code="http://snomed.info/sct|254637007"))
    radiotherapy = [r for r in search("Procedure", tok) if "radiotherapy" in r["meta"]["profile"][0]]
    assert radiotherapy
    assert search("MedicationRequest", tok, status="stopped")
    assert all(r["resourceType"] == "MedicationAdministration" for r in search("MedicationAdministration", tok))
    assert search("MedicationRequest", tok, authoredon="gt2000") == search("MedicationRequest", tok)


def test_hides_other_organisations_unless_shared_by_consent(cast: Cast) -> None:
    import_mcode(cast)
    condition = m.CancerCondition.objects.first()
    assert condition is not None
    partner = token(cast, cast.partner)
    assert get(f"/Condition/{condition.pk}", partner).status_code == 404
    assert get("/Condition/99999999", partner).content == get(f"/Condition/{condition.pk}", partner).content
    assert search("Condition", partner) == []
    Consent.objects.create(patient_id=condition.patient_id, kind=ConsentKind.DATA_SHARING,
                           grantee_organization=cast.partner, organization=cast.lead)
    assert get(f"/Condition/{condition.pk}", partner).status_code == 200
    assert {r["subject"]["reference"] for r in search("Condition", partner)} == {f"Patient/{condition.patient_id}"}


def test_requires_the_right_role(cast: Cast) -> None:
    import_mcode(cast)
    condition = m.CancerCondition.objects.first()
    assert condition is not None
    assert get(f"/Condition/{condition.pk}", None).status_code == 401
    assert get(f"/Condition/{condition.pk}", token(cast, scopes="system/Patient.rs")).status_code == 403
    client = Client()
    client.force_login(cast.researcher)
    assert client.get("/fhir/Condition").status_code == 403
    nav = Client()
    nav.force_login(cast.navigator)
    assert nav.get(f"/fhir/Condition/{condition.pk}").status_code == 200
    assert Client().post("/fhir/Condition", b"{}", content_type="application/fhir+json",
                         headers={"Authorization": f"Bearer {token(cast, scopes='system/*.cruds')}"}).status_code == 405


