"""Patient/$everything and FHIR Bulk Data $export: content, round trip, consent, the async protocol."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.test import Client

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.testing import Cast
from oncoliaison.oncology import models as m
from oncoliaison.oncology.importing import bundle_import, system_actor_for
from oncoliaison.patients.models import Patient

from .test_fhir_mappers import get, import_mcode, import_synthea, token, validate


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path


def everything(pid: int, tok: str, **query: str) -> dict[str, Any]:
    response = get(f"/Patient/{pid}/$everything", tok, **query)
    assert response.status_code == 200, response.content[:300]
    return orjson.loads(response.content)


def cancer_patient(cast: Cast, org: int | None = None) -> Patient:
    return Patient.objects.filter(organization_id=org or cast.lead.pk, conditions__category="primary").order_by(
        "pk").first()  # type: ignore[return-value]


# --- $everything ------------------------------------------------------------------------------------------


def test_everything_is_the_patient_and_their_mcode_record(cast: Cast) -> None:
    import_mcode(cast)
    patient = cancer_patient(cast)
    bundle = everything(patient.pk, token(cast))
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"])
    resources = [e["resource"] for e in bundle["entry"]]
    assert resources[0]["resourceType"] == "Patient"
    assert resources[0]["meta"]["profile"] == ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"]
    for r in resources:
        validate(r)
        if r["resourceType"] != "Patient":
            assert r["subject"]["reference"] == f"Patient/{patient.pk}"
    assert {"Condition", "Observation"} <= {r["resourceType"] for r in resources}
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, patient_id=patient.pk).count() == 1


def test_everything_type_and_since(cast: Cast) -> None:
    import_mcode(cast)
    patient = cancer_patient(cast)
    tok = token(cast)
    only = everything(patient.pk, tok, _type="Condition")
    assert {e["resource"]["resourceType"] for e in only["entry"]} == {"Condition"}
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert everything(patient.pk, tok, _since=future)["total"] == 0
    assert get(f"/Patient/{patient.pk}/$everything", tok, _type="Basic").status_code == 400


def test_everything_hides_other_organisations(cast: Cast) -> None:
    import_mcode(cast)
    patient = cancer_patient(cast)
    partner = token(cast, cast.partner)
    missing = get("/Patient/999999/$everything", partner)
    hidden = get(f"/Patient/{patient.pk}/$everything", partner)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_everything_requires_the_right_role(cast: Cast) -> None:
    import_mcode(cast)
    patient = cancer_patient(cast)
    assert get(f"/Patient/{patient.pk}/$everything", None).status_code == 401
    assert get(f"/Patient/{patient.pk}/$everything", token(cast, scopes="system/Condition.rs")).status_code == 403
    client = Client()
    client.force_login(cast.researcher)
    assert client.get(f"/fhir/Patient/{patient.pk}/$everything").status_code == 403


# --- round trip ---------------------------------------------------------------------------------------


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, list):
        return sorted(orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in value)
    return value


_SKIP = {"id", "patient", "patient_id", "condition", "condition_id", "source_system", "source_id", "content_hash",
         "created_at", "updated_at"}


def clinical_content(patient_ids: list[int]) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored clinical field of the patients' records, without ids and import bookkeeping."""
    out = {}
    for model in (m.CancerCondition, m.CancerStage, m.ClinicalObservation, m.GenomicVariant, m.Procedure,
                  m.Medication, m.PerformanceStatus, m.DiseaseStatus):
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in _SKIP and f.attname not in _SKIP]
        rows = model._default_manager.filter(patient_id__in=patient_ids).values_list(*fields)
        out[model.__name__] = sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)
    return out


def _reimport(cast: Cast, bundles: list[dict[str, Any]]) -> list[int]:
    """Import $everything Bundles into the partner hospital (a clean organisation); the new patients' ids."""
    before = set(Patient.objects.values_list("pk", flat=True))
    actor = system_actor_for(cast.partner.pk, client_id="roundtrip")
    for bundle in bundles:
        result = bundle_import(actor=actor, bundle=bundle, source="urn:roundtrip")
        assert result.rejected == [], result.rejected[:3]
    for review in m.ImportReview.objects.filter(status="pending"):
        from oncoliaison.oncology.services import import_review_resolve

        import_review_resolve(actor=cast.actor(cast.outsider), review=review, decision="create")
    return sorted(set(Patient.objects.values_list("pk", flat=True)) - before)


@pytest.mark.parametrize("source", ["mcode", "synthea"])
def test_round_trip_everything_import_everything_keeps_the_clinical_content(cast: Cast, source: str) -> None:
    if source == "mcode":
        import_mcode(cast)
    else:
        import_synthea(cast, 3)
    tok = token(cast)
    originals = list(Patient.objects.filter(organization=cast.lead).exclude(pk=cast.pat.pk).order_by("pk")
                     .values_list("pk", flat=True))
    first = [everything(pid, tok) for pid in originals]
    copies = _reimport(cast, first)
    assert len(copies) == len(originals)
    a, b = clinical_content(copies), clinical_content(originals)
    for k in a:
        if a[k] != b[k]:
            print(k, [x for x in a[k] if x not in b[k]][:4], [x for x in b[k] if x not in a[k]][:4])
    assert a == b
    partner_tok = token(cast, cast.partner)
    second = [everything(pid, partner_tok) for pid in copies]

    def content(bundles: list[dict[str, Any]]) -> list[bytes]:
        out = []
        for b in bundles:
            for e in b.get("entry", []):
                r = dict(e["resource"])
                for key in ("id", "meta", "subject", "focus", "reasonReference", "managingOrganization",
                            "identifier"):
                    r.pop(key, None)
                out.append(orjson.dumps(r, option=orjson.OPT_SORT_KEYS))
        return sorted(out)

    assert content(second) == content(first)
