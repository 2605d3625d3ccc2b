"""The demo's cancer records: staging, biomarkers, treatments and ECOG performance status for most patients.

Synthetic, like every demo record.  The facts are built by ``entry_rules`` from the same code tables as the
entry pages (so every code has its published display); most are "entered" by the demo's clinicians, and the
partner hospital's patients' records are marked as imported from that hospital's FHIR server.  Leukaemia
gets no TNM stage (TNM does not stage it), and a few patients have no recent ECOG, so the summary's open
issues have something true to say.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from oncoliaison.accounts.models import User
from oncoliaison.patients.models import Patient

from . import entry_rules
from .models import (
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    Medication,
    PerformanceStatus,
    Procedure,
    StageType,
)

# (SNOMED code of the cancer) -> biomarker tests: (LOINC, positive share or (low, high) measured range)
MARKERS: dict[str, list[tuple[str, Any]]] = {
    "254837009": [("85337-4", 0.75), ("85339-0", 0.65), ("48676-1", 0.2)],  # breast: ER, PR, HER2
    "254637007": [("39004-7", 0.15)],  # lung: EGFR
    "363406005": [("2039-6", (1.0, 40.0))],  # colon: CEA ng/mL
    "399068003": [("2857-1", (3.5, 60.0))],  # prostate: PSA ng/mL
    "363418001": [("24108-3", (20.0, 900.0))],  # pancreas: CA 19-9 U/mL
    "363443007": [("10334-1", (30.0, 800.0))],  # ovary: CA 125 U/mL
}
# cancer -> (surgery code or "", radiotherapy?, medication codes)
TREATMENTS: dict[str, tuple[str, bool, list[str]]] = {
    "254837009": ("64368001", True, ["3002", "3639", "56946", "84857"]),
    "254637007": ("359615001", True, ["309311", "1734340"]),
    "363406005": ("43075005", False, ["1736776", "1803932"]),
    "399068003": ("90470006", True, ["752899"]),
    "363418001": ("", False, ["56946"]),
    "363443007": ("", False, ["56946", "309311"]),
    "93143009": ("", False, ["11202", "8640"]),
    "372244006": ("", False, []),
}
LEUKEMIA = "93143009"


def _tnm(group: str, rng: random.Random) -> tuple[str, str, str]:
    roman = group.rstrip("ABC")
    if roman == "I":
        return rng.choice(["T1", "T1a", "T1b"]), "N0", "M0"
    if roman == "II":
        return rng.choice(["T2", "T2a"]), rng.choice(["N0", "N1"]), "M0"
    if roman == "III":
        return rng.choice(["T3", "T4"]), rng.choice(["N1", "N2"]), "M0"
    return rng.choice(["T2", "T3", "T4"]), rng.choice(["N1", "N2", "N3"]), "M1"


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _provenance(patient: Patient, entered_by: User, kind: str, n: int) -> dict[str, Any]:
    if patient.organization.slug == "st-brendan-regional":
        return {"source_system": "https://st-brendan-regional.example.org/fhir",
                "source_id": f"{kind}/demo-{patient.pk}-{n}"}
    return {"entered_by": entered_by}


def seed_cancer_record(rng: random.Random, condition: CancerCondition, *, staff: dict[str, User],
                       today: dt.date) -> None:
    """Stage, biomarkers, treatments and performance status of one demo patient's primary cancer."""
    patient = condition.patient
    diagnosed = condition.diagnosed_on or today - dt.timedelta(days=60)
    doctor, nurse = staff["oncologist"], staff["navigator"]
    n = 0

    def next_n() -> int:
        nonlocal n
        n += 1
        return n

    if condition.code == LEUKEMIA:
        condition.stage_group = ""
        condition.save(update_fields=["stage_group"])
    elif condition.stage_group:
        t, nodes, m = _tnm(condition.stage_group, rng)
        staged = min(diagnosed + dt.timedelta(days=rng.randint(3, 20)), today)
        rows, errors = entry_rules.stage_rows({"stage_type": StageType.CLINICAL, "t": t, "n": nodes, "m": m,
                                               "group": condition.stage_group, "effective_on": staged}, today=today)
        assert not errors, errors
        for fields in rows:
            CancerStage.objects.create(patient=patient, condition=condition, **fields,
                                       **_provenance(patient, doctor, "Observation", next_n()))
    for loinc, share in MARKERS.get(condition.code, []):
        qualitative = isinstance(share, float)
        values: dict[str, Any] = {"test": loinc, "effective_on": min(diagnosed + dt.timedelta(days=7), today)}
        if qualitative:
            values["answer"] = "LA6576-8" if rng.random() < share else "LA6577-6"
        else:
            low, high = share
            values["value"] = round(rng.uniform(low, high), 1)
        fields, errors = entry_rules.marker_fields(values, today=today)
        assert not errors, errors
        effective = fields.pop("effective_on")
        ClinicalObservation.objects.create(patient=patient, condition=condition, effective_at=_at(effective),
                                           **fields, **_provenance(patient, doctor, "Observation", next_n()))
    surgery, radiotherapy, drugs = TREATMENTS.get(condition.code, ("", False, []))
    early = condition.stage_group.rstrip("ABC") in {"I", "II"}
    start = min(diagnosed + dt.timedelta(days=rng.randint(14, 35)), today)
    if surgery and (early or rng.random() < 0.3):
        fields, errors = entry_rules.procedure_fields(
            {"kind": "surgical", "code": surgery, "intent": "373808002", "status": "completed", "start": start,
             "body_site": ""}, today=today)
        assert not errors, errors
        Procedure.objects.create(patient=patient, condition=condition, **_when(fields),
                                 **_provenance(patient, staff["surgeon"], "Procedure", next_n()))
        start = min(start + dt.timedelta(days=28), today)
    if radiotherapy and not early and rng.random() < 0.6:
        end = start + dt.timedelta(days=42)
        fields, errors = entry_rules.procedure_fields(
            {"kind": "radiotherapy", "modality": "1156506007", "intent": "373808002",
             "status": "completed" if end <= today else "in-progress", "start": start,
             "end": end if end <= today else None, "sessions": 30, "total_dose_cgy": 6000}, today=today)
        assert not errors, errors
        Procedure.objects.create(patient=patient, condition=condition, **_when(fields),
                                 **_provenance(patient, staff["radonc"], "Procedure", next_n()))
    for code in drugs[:rng.randint(1, max(1, len(drugs)))] if drugs else []:
        fields, errors = entry_rules.medication_fields(
            {"code": code, "status": "active", "intent": "373808002" if early else "363676003", "start": start,
             "source_type": "MedicationRequest", "dose_text": "As per protocol"}, today=today)
        assert not errors, errors
        Medication.objects.create(patient=patient, condition=condition, **_when(fields),
                                  **_provenance(patient, doctor, "MedicationRequest", next_n()))
    chance = rng.random()
    if chance < 0.85:  # most have a recent ECOG; a few an old one (over 90 days), some none
        ago = rng.randint(2, 60) if chance < 0.75 else rng.randint(100, 200)
        day = max(today - dt.timedelta(days=ago), diagnosed)
        score = rng.choices([0, 1, 2, 3], weights=[35, 40, 18, 7])[0]
        fields, errors = entry_rules.performance_fields({"score": score, "effective_on": day}, today=today)
        assert not errors, errors
        effective = fields.pop("effective_on")
        PerformanceStatus.objects.create(patient=patient, effective_at=_at(effective), **fields,
                                         **_provenance(patient, nurse, "Observation", next_n()))


def _when(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name in ("performed_start", "performed_end", "start", "end"):
        if name in out and isinstance(out[name], dt.date):
            out[name] = _at(out[name])
    return out
