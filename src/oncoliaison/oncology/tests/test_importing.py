"""Importing FHIR Bundles: the HL7 mCODE examples, Synthea cancer patients, matching, idempotency."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Model

from oncoliaison.accounts.services import system_actor
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.oncology import models as m
from oncoliaison.oncology.importing import (
    STORED_TYPES,
    bundle_import,
    import_review_resolve,
    system_actor_for,
    validate_resource,
)
from oncoliaison.patients.models import Patient, PatientIdentifier
from oncoliaison.testing import Cast

from .fixtures import (
    EXAMPLE_BASE,
    mcode_bundles,
    mcode_collection,
    mcode_resources,
    synthea_bundle,
    synthea_paths,
)

RECORD_MODELS: list[type[Model]] = [
    m.CancerCondition, m.CancerStage, m.ClinicalObservation, m.GenomicVariant, m.Procedure, m.Medication,
    m.PerformanceStatus, m.DiseaseStatus,
]


def counts() -> dict[str, int]:
    out = {model.__name__: model._default_manager.count() for model in RECORD_MODELS}  # type: ignore[attr-defined]
    out["Patient"] = Patient.objects.count()
    out["ImportReview"] = m.ImportReview.objects.count()
    return out


def source_ids(model: type[Model]) -> set[str]:
    return set(model._default_manager.values_list("source_id", flat=True))  # type: ignore[attr-defined]


@pytest.fixture
def lead_system(cast: Cast) -> Actor:
    return system_actor_for(cast.lead.pk)


def import_all_mcode(actor: Actor, cast: Cast) -> None:
    """Import every example, then decide the reviews the examples cause (two example patients share MRN
    m123 at http://hospital.example.org, so the second one is held)."""
    result = bundle_import(actor=actor, bundle=mcode_collection(), source="urn:mcode")
    assert result.rejected == []
    navigator = cast.actor(cast.navigator)
    for review in m.ImportReview.objects.filter(status="pending"):
        import_review_resolve(actor=navigator, review=review, decision="create")


# --- the HL7 mCODE examples ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_mcode_example_is_valid_fhir() -> None:
    invalid = {f"{r['resourceType']}/{r['id']}": validate_resource(r) for r in mcode_resources()}
    assert {k: v for k, v in invalid.items() if v} == {}


def test_every_mcode_example_imports_or_is_reported_unsupported(cast: Cast, lead_system: Actor) -> None:
    resources = mcode_resources()
    result = bundle_import(actor=lead_system, bundle=mcode_collection(resources), source="urn:mcode")
    assert result.rejected == []
    unsupported = {r["resourceType"] for r in resources if r["resourceType"] not in STORED_TYPES}
    assert set(result.unsupported) == unsupported
    assert sum(result.unsupported.values()) == sum(1 for r in resources if r["resourceType"] in unsupported)
    assert result.queued > 0  # the examples reuse one MRN for two people
    for review in m.ImportReview.objects.filter(status="pending"):
        import_review_resolve(actor=cast.actor(cast.navigator), review=review, decision="create")
    stored = set().union(*(source_ids(model) for model in RECORD_MODELS), set(
        m.ImportedPatient.objects.values_list("source_id", flat=True)))
    expected = {f"{EXAMPLE_BASE}{r['resourceType']}/{r['id']}" for r in resources if r["resourceType"] in STORED_TYPES}
    assert expected - stored == set()


def test_mcode_jenny_m_is_first_class_data(cast: Cast, lead_system: Actor) -> None:
    import_all_mcode(lead_system, cast)
    jenny = m.CancerCondition.objects.get(source_id=f"{EXAMPLE_BASE}Condition/primary-cancer-condition-jenny-m")
    assert (jenny.category, jenny.code_system, jenny.code) == ("primary", m.SNOMED, "353431000119107")
    assert jenny.histology_code == "82711006"
    assert (jenny.clinical_status, jenny.verification_status) == ("remission", "confirmed")
    assert jenny.diagnosed_on == dt.date(2018, 3, 16)
    assert jenny.stage_group == "IIIC"
    stages = {(s.stage_type, s.kind): s for s in m.CancerStage.objects.filter(patient=jenny.patient)}
    assert stages[("clinical", "T")].value_code and stages[("pathological", "group")].system_code
    er = m.ClinicalObservation.objects.get(source_id__endswith="tumor-marker-test-er-jenny-m")
    assert (er.kind, er.code_system, er.code) == ("tumor_marker", m.LOINC, "85337-4")
    ecog = m.PerformanceStatus.objects.get(source_id__endswith="ecog-performance-status-jenny-m")
    assert ecog.instrument == "ecog" and 0 <= ecog.score <= 5
    status = m.DiseaseStatus.objects.get(source_id__endswith="cancer-disease-status-jenny-m")
    assert status.condition_id == jenny.pk and status.value_code
    rt = m.Procedure.objects.get(source_id__endswith="radiotherapy-treatment-summary-chest-wall-jenny-m")
    assert (rt.kind, rt.sessions, rt.intent_code) == ("radiotherapy", 31, "373808002")
    assert rt.total_dose_cgy is not None and rt.total_dose_cgy >= Decimal(6000)
    assert "photons" in rt.modality
    med = m.Medication.objects.get(source_id__endswith="medication-request-anastrozole-jenny-m")
    assert (med.code_system, med.code, med.intent_code, med.request_intent) == (m.RXNORM, "84857", "373808002", "order")
    assert med.condition_id == jenny.pk


def test_mcode_genomic_variant_gene_and_hgvs(cast: Cast, lead_system: Actor) -> None:
    import_all_mcode(lead_system, cast)
    v = m.GenomicVariant.objects.get(source_id__endswith="Observation/genomic-variant-somatic-single-nucleotide")
    assert (v.gene_code, v.gene_display) == ("HGNC:11389", "STK11")
    assert v.dna_change == "NM_000455.5:c.725G>A"
    assert v.variation_code == "611264" and v.present is True


def test_mcode_ig_bundles_import_and_agree_with_the_loose_examples(cast: Cast, lead_system: Actor) -> None:
    import_all_mcode(lead_system, cast)
    for name, bundle in mcode_bundles().items():
        result = bundle_import(actor=lead_system, bundle=bundle, source="urn:mcode")
        assert result.rejected == [], name
        assert result.stored


# --- Synthea cancer patients ----------------------------------------------------------------------------


def test_synthea_cancer_bundles_import_and_reimport_changes_nothing(cast: Cast, lead_system: Actor) -> None:
    paths = synthea_paths()
    assert len(paths) == 18
    first_patients = []
    for path in paths:
        bundle = synthea_bundle(path)
        assert bundle["type"] == "transaction"
        result = bundle_import(actor=lead_system, bundle=bundle, source="urn:synthea", synthetic=True)
        assert result.rejected == [], path.name
        assert result.created["Patient"] == 1
        assert {"Encounter", "Claim"} <= set(result.unsupported)  # reported, not dropped silently
        first_patients.append(result)
    before = counts()
    assert before["Patient"] == 2 + 18
    lead_imported = Patient.objects.filter(organization=cast.lead, synthetic=True).exclude(pk=cast.pat.pk)
    assert lead_imported.count() == 18
    cancer_patients = set(m.CancerCondition.objects.filter(category__in=["primary", "secondary"])
                          .values_list("patient_id", flat=True))
    assert set(lead_imported.values_list("pk", flat=True)) <= cancer_patients
    assert m.ClinicalObservation.objects.filter(kind="tumor_marker").exists()
    for path in paths:
        result = bundle_import(actor=lead_system, bundle=synthea_bundle(path), source="urn:synthea", synthetic=True)
        assert result.summary()["imported"] == 0, path.name
        assert result.summary()["unchanged"] > 0
    assert counts() == before


def test_changed_content_updates_the_same_row(cast: Cast, lead_system: Actor) -> None:
    bundle = synthea_bundle(synthea_paths()[0])
    bundle_import(actor=lead_system, bundle=bundle, source="urn:synthea")
    before = counts()
    changed = copy.deepcopy(bundle)
    entry = next(e for e in changed["entry"] if e["resource"]["resourceType"] == "Condition")
    entry["resource"]["clinicalStatus"] = {"coding": [{"code": "resolved"}]}
    result = bundle_import(actor=lead_system, bundle=changed, source="urn:synthea")
    assert result.updated["Condition"] == 1 and sum(result.created.values()) == 0
    assert counts() == before
    assert m.CancerCondition.objects.get(source_id=entry["fullUrl"]).clinical_status == "resolved"


# --- transactions, batches and errors ----------------------------------------------------------------


def small_bundle(bundle_type: str = "transaction", *, mrn: str = "X-1", given: str = "Ada",
                 birth: str = "1950-05-05") -> dict:
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"given": [given], "family": "Lovelace"}],
               "gender": "female", "birthDate": birth,
               "identifier": [{"system": "urn:oid:1.2.3", "value": mrn}]}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "urn:uuid:p-1"},
                 "clinicalStatus": {"coding": [{"code": "active"}]},
                 "code": {"coding": [{"system": m.SNOMED, "code": "254837009",
                                      "display": "Malignant neoplasm of breast"}]},
                 "onsetDateTime": "2024-02-01"}
    marker = {"resourceType": "Observation", "id": "o1", "status": "final",
              "code": {"coding": [{"system": m.LOINC, "code": "2039-6", "display": "CEA"}]},
              "subject": {"reference": "urn:uuid:p-1"}, "effectiveDateTime": "2024-02-03",
              "valueQuantity": {"value": 4.2, "unit": "ng/mL"}}
    ecog = {"resourceType": "Observation", "id": "o2", "status": "final",
            "code": {"coding": [{"system": m.LOINC, "code": "89247-1"}]},
            "subject": {"reference": "urn:uuid:p-1"}, "valueInteger": 1}
    entries = [("urn:uuid:p-1", patient), ("urn:uuid:c-1", condition), ("urn:uuid:o-1", marker),
               ("urn:uuid:o-2", ecog)]
    return {"resourceType": "Bundle", "type": bundle_type, "entry": [
        {"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
        for url, r in entries]}


def test_transaction_with_one_invalid_entry_stores_nothing_and_names_it(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle()
    bundle["entry"][2]["resource"]["effectiveDateTime"] = "the day before yesterday"
    before = counts()
    audit_before = AuditEvent.objects.count()
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert not result.stored
    assert [(i.index, i.resource_type) for i in result.rejected] == [(2, "Observation")]
    assert "effectiveDateTime" in result.rejected[0].reason
    outcome = result.to_operation_outcome()
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[2]"]
    assert counts() == before
    assert AuditEvent.objects.count() == audit_before


def test_resources_the_record_does_not_keep_are_validated_too(cast: Cast, lead_system: Actor) -> None:
    """An Encounter is not stored, but an invalid one still refuses its transaction, naming the entry."""
    encounter = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                 "subject": {"reference": "urn:uuid:p-1"}}
    bundle = small_bundle()
    bundle["entry"].append({"fullUrl": "urn:uuid:e-1", "resource": dict(encounter, period={"start": "soon"}),
                            "request": {"method": "POST", "url": "Encounter"}})
    before = counts()
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert not result.stored and [(i.index, i.resource_type) for i in result.rejected] == [(4, "Encounter")]
    assert "period" in result.rejected[0].reason
    assert counts() == before
    bundle["entry"][4]["resource"] = encounter
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.stored and result.rejected == [] and result.unsupported["Encounter"] == 1


def test_transaction_with_a_mapping_problem_stores_nothing(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle()
    bundle["entry"][3]["resource"]["valueInteger"] = 7  # ECOG is 0-5
    before = counts()
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert [i.index for i in result.rejected] == [3] and "ECOG" in result.rejected[0].reason
    assert counts() == before


def test_batch_stores_the_valid_entries(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle("batch")
    del bundle["entry"][2]["resource"]["status"]  # required 1..1
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.stored and [i.index for i in result.rejected] == [2]
    assert result.created["Condition"] == 1 and result.created["Observation"] == 1  # the ECOG one
    assert m.PerformanceStatus.objects.get().score == 1


def test_unresolvable_subject_is_rejected_with_reason(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle("batch")
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/nowhere"}
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert [i.index for i in result.rejected] == [1]
    assert "neither in the bundle nor imported before" in result.rejected[0].reason


def test_later_bundle_may_refer_to_a_patient_imported_before(cast: Cast, lead_system: Actor) -> None:
    bundle_import(actor=lead_system, bundle=small_bundle(), source="urn:test")
    follow_up = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:o-9", "request": {"method": "POST", "url": "Observation"},
        "resource": {"resourceType": "Observation", "status": "final",
                     "code": {"coding": [{"system": m.LOINC, "code": "89243-0"}]},
                     "subject": {"reference": "urn:uuid:p-1"}, "valueInteger": 80}}]}
    result = bundle_import(actor=lead_system, bundle=follow_up, source="urn:test")
    assert result.rejected == [] and result.created["Observation"] == 1
    assert m.PerformanceStatus.objects.filter(instrument="karnofsky", score=80).count() == 1


def test_not_a_bundle_and_unknown_types(cast: Cast, lead_system: Actor) -> None:
    with pytest.raises(ValidationFailed):
        bundle_import(actor=lead_system, bundle={"resourceType": "Patient"}, source="urn:test")
    with pytest.raises(ValidationFailed):
        bundle_import(actor=lead_system, bundle={"resourceType": "Bundle", "type": "history"}, source="urn:test")
    bundle = small_bundle("collection")
    bundle["entry"].append({"resource": {"resourceType": "Frobnicator", "id": "x"}})
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Patient/1"}, "resource": {"resourceType": "Patient"}})
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert [i.index for i in result.rejected] == [4, 5]
    assert "not a FHIR R4 resource type" in result.rejected[0].reason


# --- patient matching ------------------------------------------------------------------------------------


def test_match_by_identifier_links_to_the_known_patient(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle(given="Patricia", birth="1961-04-02")  # name spelt differently, same birth date
    bundle["entry"][0]["resource"]["identifier"] = [{"system": cast.lead.mrn_system, "value": "L-1001"}]
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.patients_linked == 1 and result.patients_created == 0
    assert m.CancerCondition.objects.get(source_id="urn:uuid:c-1").patient_id == cast.pat.pk


def test_match_by_name_and_birth_date(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle(given="Pat", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "PATIENT"
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.patients_linked == 1
    assert m.CancerCondition.objects.get(source_id="urn:uuid:c-1").patient_id == cast.pat.pk
    # the incoming MRN was not added to the known patient silently; the link is remembered
    assert m.ImportedPatient.objects.get(source_id="urn:uuid:p-1").patient_id == cast.pat.pk


def test_ambiguous_match_is_queued_and_the_decision_imports_the_held_records(cast: Cast, lead_system: Actor) -> None:
    twin = Patient.objects.create(organization=cast.lead, given_name="Pat", family_name="Patient",
                                  birth_date=dt.date(1961, 4, 2), gender="female")
    bundle = small_bundle(given="Pat", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "Patient"
    before = counts()
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.queued == 4 and result.rejected == []
    review = m.ImportReview.objects.get()
    assert review.status == "pending" and set(review.candidates.values_list("pk", flat=True)) == {cast.pat.pk, twin.pk}
    assert counts()["CancerCondition"] == before["CancerCondition"]
    # importing the same bundle again keeps one pending review
    bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert m.ImportReview.objects.filter(status="pending").count() == 1
    outcome = import_review_resolve(actor=cast.actor(cast.navigator), review=review, decision="link", patient_id=twin.pk)
    assert outcome.created["Condition"] == 1
    review.refresh_from_db()
    assert (review.status, review.resolved_patient_id) == ("linked", twin.pk)
    assert m.CancerCondition.objects.get(source_id="urn:uuid:c-1").patient_id == twin.pk
    # from now on the same sender's patient is known
    again = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert again.queued == 0 and again.summary()["imported"] == 0


def test_similar_patient_goes_to_review(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle(given="Patricia", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "Patient"
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.queued == 4
    assert "similar" in m.ImportReview.objects.get().reason


def test_identifier_of_another_organisations_patient_is_not_linked_or_disclosed(cast: Cast,
                                                                                 lead_system: Actor) -> None:
    bundle = small_bundle()
    bundle["entry"][0]["resource"]["identifier"] = [{"system": cast.partner.mrn_system, "value": "P-2001"}]
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.queued == 4
    review = m.ImportReview.objects.get()
    assert list(review.candidates.all()) == []
    assert not m.CancerCondition.objects.filter(patient=cast.other_patient).exists()


def test_new_patient_is_registered_in_the_importers_organisation(cast: Cast, lead_system: Actor) -> None:
    result = bundle_import(actor=lead_system, bundle=small_bundle(), source="urn:test")
    assert result.patients_created == 1
    ident = PatientIdentifier.objects.get(value="X-1")
    assert ident.patient.organization_id == cast.lead.pk


# --- who may import ---------------------------------------------------------------------------------------


def test_hides_other_organisations_outsider_cannot_import_into_the_lead_program(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        bundle_import(actor=cast.actor(cast.outsider), bundle=small_bundle(), source="urn:test",
                      organization_id=cast.lead.pk)


def test_requires_the_right_role(cast: Cast) -> None:
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        with pytest.raises(Forbidden):
            bundle_import(actor=cast.actor(user), bundle=small_bundle(), source="urn:test")


def test_token_without_write_scope_is_refused_per_entry(cast: Cast) -> None:
    reader = system_actor(client_id="reader", organization_id=cast.lead.pk,
                          scopes=ScopeSet.parse("system/*.rs system/Patient.cruds"))
    result = bundle_import(actor=reader, bundle=small_bundle("batch"), source="urn:test")
    assert {i.index for i in result.rejected} == {1, 2, 3}
    assert all(i.code == "forbidden" for i in result.rejected)


def test_staff_import_is_audited_per_patient(cast: Cast) -> None:
    navigator = cast.actor(cast.navigator)
    result = bundle_import(actor=navigator, bundle=small_bundle(), source="urn:test", channel="web")
    pid = m.CancerCondition.objects.get().patient_id
    events = AuditEvent.objects.filter(patient_id=pid, category="oncology", username="grace")
    assert {(e.action, e.resource_type) for e in events} == {("create", "Condition"), ("create", "Observation")}
    assert result.created["Patient"] == 1
    assert AuditEvent.objects.filter(patient_id=pid, category="demographics", action="create").exists()
    # no names or identifiers in audit details
    assert not AuditEvent.objects.filter(detail__icontains="Lovelace").exists()
    assert not AuditEvent.objects.filter(detail__icontains="X-1").exists()


def test_response_bundle_has_one_response_per_entry(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle("batch")
    del bundle["entry"][2]["resource"]["status"]
    bundle["entry"].append({"fullUrl": "urn:uuid:e-1", "request": {"method": "POST", "url": "Encounter"},
                            "resource": {"resourceType": "Encounter", "status": "finished",
                                         "class": {"code": "AMB"}}})
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    response = result.to_response_bundle()
    assert response["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses == ["201 Created", "201 Created", "400 Bad Request", "201 Created", "200 OK"]
    assert response["entry"][2]["response"]["outcome"]["issue"][0]["expression"] == ["Bundle.entry[2]"]
    assert response["entry"][4]["response"]["outcome"]["issue"][0]["code"] == "not-supported"
    again = bundle_import(actor=lead_system, bundle=small_bundle(), source="urn:test").to_response_bundle()
    assert again["type"] == "transaction-response"
    # the entry rejected from the batch is new now; the others are unchanged
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK", "200 OK", "201 Created", "200 OK"]


def test_identifier_reused_for_another_person_is_not_linked(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle(given="Someone", birth="1970-01-01")
    bundle["entry"][0]["resource"]["identifier"] = [{"system": cast.lead.mrn_system, "value": "L-1001"}]
    result = bundle_import(actor=lead_system, bundle=bundle, source="urn:test")
    assert result.patients_linked == 0 and result.queued == 4
    assert list(m.ImportReview.objects.get().candidates.values_list("pk", flat=True)) == [cast.pat.pk]


def test_later_records_of_a_patient_waiting_in_review_join_the_review(cast: Cast, lead_system: Actor) -> None:
    bundle = small_bundle(given="Patricia", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "Patient"
    first = {**bundle, "entry": bundle["entry"][:1]}  # the patient alone: held for review
    assert bundle_import(actor=lead_system, bundle=first, source="urn:test").queued == 1
    rest = {**bundle, "type": "batch", "entry": bundle["entry"][1:]}
    result = bundle_import(actor=lead_system, bundle=rest, source="urn:test")
    assert result.rejected == [] and result.queued == 3
    assert [e["response"]["status"] for e in result.to_response_bundle()["entry"]] == ["202 Accepted"] * 3
    review = m.ImportReview.objects.get()
    assert review.resource_count == 4
    bundle_import(actor=lead_system, bundle=rest, source="urn:test")  # again: replaced, not duplicated
    review.refresh_from_db()
    assert review.resource_count == 4
    outcome = import_review_resolve(actor=cast.actor(cast.navigator), review=review, decision="create")
    assert outcome.created["Condition"] == 1 and outcome.created["Observation"] == 2
