"""Pure rules: what an incoming resource is, and how a patient matches.  Codes from mCODE STU4."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.oncology import rules
from oncoliaison.oncology.models import (
    LOINC,
    SNOMED,
    ConditionCategory,
    ObservationKind,
    ProcedureKind,
    StageKind,
    StageType,
)


def obs(code: str, system: str = LOINC, *, profile: str = "", category: str = "") -> dict:
    r: dict = {"resourceType": "Observation", "code": {"coding": [{"system": system, "code": code}]}}
    if profile:
        r["meta"] = {"profile": [rules.MCODE + profile]}
    if category:
        r["category"] = [{"coding": [{"code": category}]}]
    return r


@pytest.mark.parametrize(
    ("code", "system", "kind", "stage_type"),
    [
        ("399504009", SNOMED, StageKind.TNM_T, StageType.CLINICAL),
        ("399534004", SNOMED, StageKind.TNM_N, StageType.CLINICAL),
        ("399387003", SNOMED, StageKind.TNM_M, StageType.CLINICAL),
        ("399537006", SNOMED, StageKind.STAGE_GROUP, StageType.CLINICAL),
        ("384625004", SNOMED, StageKind.TNM_T, StageType.PATHOLOGICAL),
        ("371494008", SNOMED, StageKind.TNM_N, StageType.PATHOLOGICAL),
        ("371497001", SNOMED, StageKind.TNM_M, StageType.PATHOLOGICAL),
        ("399588009", SNOMED, StageKind.STAGE_GROUP, StageType.PATHOLOGICAL),
        ("21908-9", LOINC, StageKind.STAGE_GROUP, StageType.CLINICAL),  # mCODE STU1 / AJCC LOINC
        ("21902-2", LOINC, StageKind.STAGE_GROUP, StageType.PATHOLOGICAL),
    ],
)
def test_tnm_codes_are_staging(code: str, system: str, kind: str, stage_type: str) -> None:
    cls = rules.classify_observation(obs(code, system))
    assert (cls.target, cls.stage_kind, cls.stage_type) == ("stage", kind, stage_type)


def test_other_staging_systems_by_profile() -> None:
    cls = rules.classify_observation(obs("385361009", SNOMED, profile="mcode-cancer-stage"))  # FIGO
    assert (cls.target, cls.stage_kind) == ("stage", StageKind.OTHER)


@pytest.mark.parametrize(
    ("resource", "target", "detail"),
    [
        (obs("97509-4"), "disease_status", ""),
        (obs("89247-1"), "performance", "ecog"),
        (obs("89243-0"), "performance", "karnofsky"),
        (obs("C38144", "http://ncimeta.nci.nih.gov"), "performance", "lansky"),
        (obs("69548-6"), "genomic_variant", ""),
        (obs("2857-1"), "observation", ObservationKind.TUMOR_MARKER),  # PSA, no profile (Synthea)
        (obs("2039-6"), "observation", ObservationKind.TUMOR_MARKER),  # CEA
        (obs("99999-9", profile="mcode-tumor-marker-test"), "observation", ObservationKind.TUMOR_MARKER),
        (obs("398192003", SNOMED), "observation", ObservationKind.COMORBIDITY),
        (obs("29463-7", category="vital-signs"), "observation", ObservationKind.VITAL_SIGN),
        (obs("718-7", category="laboratory"), "observation", ObservationKind.LABORATORY),
        (obs("72166-2", category="social-history"), "observation", ObservationKind.SOCIAL),
        (obs("21889-1", profile="mcode-tumor-size"), "observation", ObservationKind.TUMOR),
        (obs("94076-7"), "observation", ObservationKind.GENOMIC),  # tumor mutational burden
        (obs("81695-9"), "observation", ObservationKind.GENOMIC),  # microsatellite instability
        (obs("12345-6"), "observation", ObservationKind.OTHER),
    ],
)
def test_observation_classes(resource: dict, target: str, detail: str) -> None:
    cls = rules.classify_observation(resource)
    assert cls.target == target
    assert detail in {"", cls.instrument, cls.observation_kind}


def cond(display: str = "", *, system: str = SNOMED, code: str = "1", profile: str = "") -> dict:
    r: dict = {"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code, "display": display}]}}
    if profile:
        r["meta"] = {"profile": [rules.MCODE + profile]}
    return r


@pytest.mark.parametrize(
    ("resource", "category"),
    [
        (cond("Hypertension", profile="mcode-primary-cancer-condition"), ConditionCategory.PRIMARY),
        (cond("x", profile="mcode-secondary-cancer-condition"), ConditionCategory.SECONDARY),
        (cond(system=rules.ICD10CM_SYSTEM, code="C50.912"), ConditionCategory.PRIMARY),
        (cond(system=rules.ICD10CM_SYSTEM, code="C78.00"), ConditionCategory.SECONDARY),
        (cond(system=rules.ICD10CM_SYSTEM, code="D05.10"), ConditionCategory.PRIMARY),  # in situ
        (cond(system=rules.ICD10CM_SYSTEM, code="I10"), ConditionCategory.COMORBIDITY),
        (cond("Primary malignant neoplasm of colon"), ConditionCategory.PRIMARY),
        (cond("Secondary malignant neoplasm of colon"), ConditionCategory.SECONDARY),
        (cond("Metastasis from malignant tumor of prostate (disorder)"), ConditionCategory.SECONDARY),
        (cond("Suspected lung cancer (situation)"), ConditionCategory.COMORBIDITY),
        (cond("Benign neoplasm of colon"), ConditionCategory.COMORBIDITY),
        (cond("Essential hypertension (disorder)"), ConditionCategory.COMORBIDITY),
    ],
)
def test_condition_categories(resource: dict, category: str) -> None:
    assert rules.classify_condition(resource) == category


@pytest.mark.parametrize(
    ("display", "profile", "kind"),
    [
        ("anything", "mcode-radiotherapy-course-summary", ProcedureKind.RADIOTHERAPY),
        ("anything", "mcode-cancer-related-surgical-procedure", ProcedureKind.SURGICAL),
        ("Teleradiotherapy procedure (procedure)", "", ProcedureKind.RADIOTHERAPY),
        ("Partial resection of colon", "", ProcedureKind.SURGICAL),
        ("Lobectomy of lung", "", ProcedureKind.SURGICAL),
        ("Medication reconciliation (procedure)", "", ProcedureKind.OTHER),
    ],
)
def test_procedure_kinds(display: str, profile: str, kind: str) -> None:
    r: dict = {"resourceType": "Procedure", "code": {"coding": [{"system": SNOMED, "code": "1", "display": display}]}}
    if profile:
        r["meta"] = {"profile": [rules.MCODE + profile]}
    assert rules.classify_procedure(r) == kind


@pytest.mark.parametrize(
    ("instrument", "score", "ok"),
    [("ecog", 0, True), ("ecog", 5, True), ("ecog", 6, False), ("karnofsky", 100, True),
     ("karnofsky", 0, True), ("karnofsky", 85, False), ("karnofsky", 110, False), ("lansky", 20, True)],
)
def test_performance_ranges(instrument: str, score: int, ok: bool) -> None:
    # ECOG 0-5 (Oken et al. 1982); Karnofsky and Lansky 0-100 in steps of 10.
    assert (rules.performance_score_error(instrument, score) == "") is ok


C = rules.Candidate


def test_match_one_identifier_links() -> None:
    d = rules.decide_patient_match([C(7, True)], [])
    assert (d.action, d.patient_id) == ("link", 7)


def test_match_identifier_with_another_birth_date_goes_to_review() -> None:
    d = rules.decide_patient_match([C(7, True, birth_date_agrees=False)], [])
    assert (d.action, d.candidates) == ("review", (7,))


def test_match_identifier_of_invisible_patient_goes_to_review_without_naming_it() -> None:
    d = rules.decide_patient_match([C(7, False)], [])
    assert d.action == "review"
    assert d.candidates == ()


def test_match_identifiers_of_two_patients_go_to_review() -> None:
    d = rules.decide_patient_match([C(7, True), C(8, True)], [])
    assert (d.action, d.candidates) == ("review", (7, 8))


def test_match_name_and_birth_date() -> None:
    assert rules.decide_patient_match([], [C(3, True)]).patient_id == 3
    assert rules.decide_patient_match([], [C(3, True), C(4, True)]).action == "review"


def test_match_near_goes_to_review_and_nothing_creates() -> None:
    assert rules.decide_patient_match([], [], [C(5, True)]).action == "review"
    assert rules.decide_patient_match([], [], []).action == "create"


def test_open_issues() -> None:
    today = dt.date(2026, 11, 23)
    assert rules.open_issues(today=today, primary_cancers=[], staged=False, last_performance=None,
                             latest_disease_status=None) == []
    issues = rules.open_issues(today=today, primary_cancers=["Breast cancer"], staged=False,
                               last_performance=today - dt.timedelta(days=91),
                               latest_disease_status=("271299001", "Patient's condition worsened"),
                               pending_reviews=2)
    assert len(issues) == 4
    assert rules.open_issues(today=today, primary_cancers=["Breast cancer"], staged=True,
                             last_performance=today - dt.timedelta(days=30),
                             latest_disease_status=("268910001", "Patient's condition improved")) == []
