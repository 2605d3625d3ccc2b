"""oncoliaison import-fhir: files and directories, NDJSON, summary, exit status, audit."""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from oncoliaison.core.models import AuditEvent
from oncoliaison.oncology.models import CancerCondition, ClinicalObservation
from oncoliaison.patients.models import Patient
from oncoliaison.testing import Cast

from .fixtures import mcode_resources, synthea_paths


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_fhir", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_imports_a_directory_of_gzipped_bundles_and_is_idempotent(cast: Cast, tmp_path: Path) -> None:
    for p in synthea_paths()[:2]:
        shutil.copy(p, tmp_path / p.name)
    code, out, err = run(str(tmp_path), "--organization", "lead", "--no-progress", "--synthetic")
    assert code == 0, err
    assert "Encounter" in out and "Rejected: 0" in out
    created = Patient.objects.filter(organization=cast.lead, synthetic=True).exclude(pk=cast.pat.pk).count()
    assert created == 2
    rows = CancerCondition.objects.count(), ClinicalObservation.objects.count()
    code, out, _ = run(str(tmp_path), "--organization", "lead", "--no-progress")
    assert code == 0 and "Imported: 0." in out
    assert (CancerCondition.objects.count(), ClinicalObservation.objects.count()) == rows
    assert AuditEvent.objects.filter(channel="cli", client_id="cli:import-fhir", category="oncology").exists()


def test_ndjson_with_a_bad_resource_exits_1_and_names_it(cast: Cast, tmp_path: Path) -> None:
    by_id = {r["id"]: r for r in mcode_resources()}
    lines = [by_id["cancer-patient-jenny-m"], by_id["primary-cancer-condition-jenny-m"],
             {**by_id["ecog-performance-status-jenny-m"], "valueInteger": 9}]
    (tmp_path / "jenny.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in lines) + b"\n")
    code, out, err = run(str(tmp_path / "jenny.ndjson"), "--organization", "lead", "--no-progress")
    assert code == 1
    assert "entry 2 Observation/ecog-performance-status-jenny-m" in err and "ECOG" in err
    assert CancerCondition.objects.filter(source_id="Condition/primary-cancer-condition-jenny-m").exists()
    assert "Jenny" not in out + err  # no patient names in the output


def test_gzip_ndjson_and_unknown_organisation(cast: Cast, tmp_path: Path) -> None:
    patient = next(r for r in mcode_resources() if r["id"] == "cancer-patient-john-anyperson")
    (tmp_path / "Patient.ndjson.gz").write_bytes(gzip.compress(orjson.dumps(patient) + b"\n"))
    with pytest.raises(CommandError):
        run(str(tmp_path), "--organization", "nowhere")
    with pytest.raises(CommandError):
        run(str(tmp_path), "--organization", "research")  # not a care-delivering organisation
    code, out, _ = run(str(tmp_path), "--no-progress")  # default: the lead program
    assert code == 0 and "Patients registered: 1" in out


def test_a_file_nested_too_deep_is_reported_and_the_run_goes_on(cast: Cast, tmp_path: Path) -> None:
    import json

    by_id = {r["id"]: r for r in mcode_resources()}
    deep: dict = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(150):
        deep = {"url": "http://example.org/x", "extension": [deep]}
    hostile = {**by_id["cancer-patient-jenny-m"], "extension": [deep]}
    (tmp_path / "a-deep.json").write_text(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:x", "resource": hostile, "request": {"method": "POST", "url": "Patient"}}]}))
    good = [by_id["cancer-patient-jenny-m"], by_id["primary-cancer-condition-jenny-m"]]
    (tmp_path / "b-good.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in good) + b"\n")
    code, _, err = run(str(tmp_path), "--organization", "lead", "--no-progress")
    assert code == 1
    assert "a-deep.json" in err and "nested deeper than" in err
    assert CancerCondition.objects.filter(source_id="Condition/primary-cancer-condition-jenny-m").exists()
