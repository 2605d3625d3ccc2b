"""Patient/$everything and FHIR Bulk Data $export: content, round trip, consent, the async protocol."""

from __future__ import annotations

import datetime as dt
import stat
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.test import Client

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.exports.models import ExportJob, ExportStatus
from oncoliaison.exports.selectors import export_types, patient_of
from oncoliaison.exports.services import export_job_run, run_queued_jobs
from oncoliaison.oncology import models as m
from oncoliaison.oncology.importing import bundle_import, system_actor_for
from oncoliaison.oncology.tests.test_fhir_mappers import get, import_mcode, import_synthea, token, validate
from oncoliaison.patients.models import Consent, ConsentKind, Patient
from oncoliaison.testing import Cast


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


def test_everything_is_every_resource_the_server_serves_for_the_patient(cast: Cast) -> None:
    """Not only the cancer record: the care plan and its goals and tasks, needs assessments, symptom reports
    with their scores and alerts, consents and care teams — each as the FHIR search of its type gives it."""
    from oncoliaison.assessments import services as assessment_services
    from oncoliaison.assessments.testing import load_instruments as load_assessment_instruments
    from oncoliaison.careplans import services as careplan_services
    from oncoliaison.fhir import registry
    from oncoliaison.instruments.models import Instrument
    from oncoliaison.monitoring import services as monitoring
    from oncoliaison.monitoring.instruments import load_instruments

    versions = load_assessment_instruments(cast)
    nav = cast.actor(cast.navigator)
    assessment = assessment_services.assessment_submit(
        actor=nav, patient=cast.pat, version=versions["nccn-dt"],
        answers={"distress": ["8"], "problems-practical": ["insurance"]})
    careplan_services.care_plan_generate(actor=nav, patient=cast.pat, assessment=assessment)
    load_instruments()
    monitoring.report_submit(actor=nav, patient=cast.pat, instrument=Instrument.objects.get(code="esas-r"),
                             answers={"esas-1": 9}, source="phone")
    tok = token(cast)
    bundle = everything(cast.pat.pk, tok)
    resources = [e["resource"] for e in bundle["entry"]]
    found = {r["resourceType"] for r in resources}
    assert {"Patient", "CarePlan", "Goal", "Task", "QuestionnaireResponse", "Observation", "Flag", "Consent",
            "CareTeam"} <= found, found
    assert found <= set(export_types())
    assert "AuditEvent" not in export_types()  # the trail is reviewed in the audit log, not disclosed with the record
    for r in resources:
        validate(r)
        assert patient_of(r["resourceType"], r) == cast.pat.pk, r["resourceType"]
    # Each type holds exactly the rows a search for the patient gives.
    for rtype in found - {"Patient"}:
        searched = get(f"/{rtype}", tok, patient=str(cast.pat.pk), _count="100")
        assert searched.status_code == 200, (rtype, searched.content[:200])
        ids = {e["resource"]["id"] for e in orjson.loads(searched.content).get("entry", [])}
        assert ids == {r["id"] for r in resources if r["resourceType"] == rtype}, rtype
    # Two QuestionnaireResponse domains (needs assessment, symptom report) both appear.
    assert len([r for r in resources if r["resourceType"] == "QuestionnaireResponse"]) == 2
    assert registry.get("QuestionnaireResponse") is not None
    # A token may narrow it: without CarePlan scope the plan is left out, or refused when asked for by name.
    narrow = token(cast, scopes="system/Patient.rs system/Consent.rs")
    assert {e["resource"]["resourceType"] for e in everything(cast.pat.pk, narrow)["entry"]} == {"Patient", "Consent"}
    assert get(f"/Patient/{cast.pat.pk}/$everything", narrow, _type="CarePlan").status_code == 403


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
        from oncoliaison.oncology.importing import import_review_resolve

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


# --- Bulk Data $export --------------------------------------------------------------------------------------


def kick_off(path: str, tok: str | None, prefer: bool = True, **query: str) -> Any:
    headers = {"Accept": "application/fhir+json"}
    if tok:
        headers["Authorization"] = f"Bearer {tok}"
    if prefer:
        headers["Prefer"] = "respond-async"
    return Client().get(f"/fhir{path}", query, headers=headers)


def follow(response: Any, tok: str) -> dict[str, Any]:
    """Poll the status URL until the manifest; return it."""
    assert response.status_code == 202, response.content[:300]
    status_url = response["Content-Location"]
    assert "/fhir/bulkstatus/" in status_url
    for _ in range(5):
        polled = Client().get(status_url.split("testserver", 1)[1], headers={"Authorization": f"Bearer {tok}"})
        if polled.status_code == 200:
            return orjson.loads(polled.content)  # type: ignore[no-any-return]
        assert polled.status_code == 202 and polled["X-Progress"]
        run_queued_jobs()
    raise AssertionError("the export did not finish")


def download(manifest: dict[str, Any], tok: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        response = Client().get(item["url"].split("testserver", 1)[1],
                                headers={"Authorization": f"Bearer {tok}", "Accept": "application/fhir+ndjson"})
        assert response.status_code == 200 and response["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(response.streaming_content).splitlines()
        assert len(lines) == item["count"]
        out[item["type"]] = [orjson.loads(line) for line in lines]
    return out


def test_system_export_end_to_end(cast: Cast) -> None:
    import_mcode(cast)
    tok = token(cast)
    manifest = follow(kick_off("/$export", tok), tok)
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"].endswith("/fhir/$export") and manifest["transactionTime"]
    files = download(manifest, tok)
    assert set(files) >= {"Patient", "Condition", "Observation", "Procedure", "MedicationRequest"}
    for resources in files.values():
        for r in resources:
            validate(r)
    lead_patients = set(Patient.objects.filter(organization=cast.lead).values_list("pk", flat=True))
    assert {int(p["id"]) for p in files["Patient"]} == lead_patients
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, channel="fhir", resource_type="Bundle",
                                     patient_id__isnull=False).count() == len(lead_patients)
    # only the same client downloads the files
    other = token(cast)
    url = manifest["output"][0]["url"].split("testserver", 1)[1]
    assert Client().get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert Client().get(url).status_code == 401


def test_type_and_since(cast: Cast) -> None:
    import_mcode(cast)
    tok = token(cast)
    files = download(follow(kick_off("/Patient/$export", tok, _type="Condition,Procedure"), tok), tok)
    assert set(files) == {"Condition", "Procedure"}
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert follow(kick_off("/$export", tok, _since=future), tok)["output"] == []
    assert kick_off("/$export", tok, _type="Basic").status_code == 400
    assert kick_off("/$export", tok, _since="last week").status_code == 400
    assert kick_off("/$export", tok, _outputFormat="text/csv").status_code == 400
    assert kick_off("/$export", tok, prefer=False).status_code == 400


def test_partner_exports_a_consented_patient_and_not_an_unconsented_one(cast: Cast) -> None:
    import_mcode(cast)
    shared, unshared = list(Patient.objects.filter(organization=cast.lead, conditions__isnull=False)
                            .distinct().order_by("pk")[:2])
    Consent.objects.create(patient=shared, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    partner = token(cast, cast.partner)
    files = download(follow(kick_off(f"/Group/{cast.lead.pk}/$export", partner), partner), partner)
    assert {p["id"] for p in files["Patient"]} == {str(shared.pk)}
    owners = {patient_of(rtype, r) for rtype, rs in files.items() for r in rs}
    assert owners == {shared.pk}
    assert unshared.pk not in owners
    system = download(follow(kick_off("/$export", partner), partner), partner)
    assert {p["id"] for p in system["Patient"]} == {str(shared.pk), str(cast.other_patient.pk)}


def test_group_hides_other_organisations(cast: Cast) -> None:
    import_mcode(cast)
    partner = token(cast, cast.partner)
    hidden = kick_off(f"/Group/{cast.lead.pk}/$export", partner)
    missing = kick_off("/Group/999999/$export", partner)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_requires_the_right_role(cast: Cast) -> None:
    assert kick_off("/$export", None).status_code == 401
    nav = Client()
    nav.force_login(cast.navigator)
    assert nav.get("/fhir/$export", headers={"Prefer": "respond-async"}).status_code == 403
    assert kick_off("/$export", token(cast, scopes="system/Patient.s")).status_code == 403
    assert kick_off("/$export", token(cast, scopes="system/Patient.rs"), _type="Condition").status_code == 403
    only_conditions = token(cast, scopes="system/Condition.rs")
    assert [o["type"] for o in follow(kick_off("/$export", only_conditions), only_conditions)["output"]] in (
        [], ["Condition"])


def test_queued_job_polls_with_progress_runs_once_and_cancels(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    import_mcode(cast)
    tok = token(cast)
    response = kick_off("/$export", tok)
    assert response.status_code == 202
    path = response["Content-Location"].split("testserver", 1)[1]
    polled = Client().get(path, headers={"Authorization": f"Bearer {tok}"})
    assert polled.status_code == 202 and polled["X-Progress"] == "queued" and polled["Retry-After"]
    job = ExportJob.objects.get()
    assert run_queued_jobs() == 1 and run_queued_jobs() == 0  # claimed once
    assert export_job_run(job.pk) is False
    assert Client().get(path, headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert Client().delete(path, headers={"Authorization": f"Bearer {tok}"}).status_code == 202
    assert Client().get(path, headers={"Authorization": f"Bearer {tok}"}).status_code == 404
    assert not any((settings.VAR_DIR / "exports" / job.key).glob("*.ndjson"))
    second = kick_off("/$export", tok)["Content-Location"].split("testserver", 1)[1]
    assert Client().delete(second, headers={"Authorization": f"Bearer {tok}"}).status_code == 202
    assert run_queued_jobs() == 0


def test_worker_command_runs_queued_jobs_and_deletes_old_files(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    import_mcode(cast)
    tok = token(cast)
    kick_off("/$export", tok, _type="Condition")
    call_command("run_export_jobs", "--keep-days", "1")
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.COMPLETED and (settings.VAR_DIR / "exports" / job.key / "Condition.ndjson").is_file()
    # Export output is the client's patient data: folders 0700, files 0600 (not the umask's 0644).
    folder = settings.VAR_DIR / "exports" / job.key
    assert {stat.S_IMODE(p.stat().st_mode) for p in (settings.VAR_DIR, folder.parent, folder)} == {0o700}
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    ExportJob.objects.filter(pk=job.pk).update(finished_at=job.finished_at - dt.timedelta(days=2))
    call_command("run_export_jobs", "--keep-days", "1")
    assert not (settings.VAR_DIR / "exports" / job.key).exists()
    assert ExportJob.objects.get().status == ExportStatus.CANCELLED


def test_the_scheduled_jobs_delete_export_files_after_a_week(cast: Cast, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    import_mcode(cast)
    tok = token(cast)
    follow(kick_off("/$export", tok, _type="Condition"), tok)
    job = ExportJob.objects.get()
    folder = settings.VAR_DIR / "exports" / job.key
    call_command("run_scheduled_jobs")
    assert folder.is_dir() and ExportJob.objects.get().status == ExportStatus.COMPLETED  # six days left
    ExportJob.objects.filter(pk=job.pk).update(finished_at=job.finished_at - dt.timedelta(days=8))
    call_command("run_scheduled_jobs")
    assert not folder.exists() and ExportJob.objects.get().status == ExportStatus.CANCELLED
    assert "deleted the files of 1 old export(s)" in capsys.readouterr().out
