"""Pure rules of the cancer record: what kind of fact an incoming resource is, how a patient matches.

No I/O here.  Codes and profile URLs are those of mCODE STU4 (http://hl7.org/fhir/us/mcode/) and US Core.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .models import (
    HGNC,
    LOINC,
    SNOMED,
    ConditionCategory,
    ObservationKind,
    PerformanceInstrument,
    ProcedureKind,
    StageKind,
    StageType,
)

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
NCIT_SYSTEMS = frozenset({"http://ncimeta.nci.nih.gov", "http://ncit.nci.nih.gov"})
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_SYSTEMS = frozenset({ICD10CM_SYSTEM, "http://hl7.org/fhir/sid/icd-10"})

# --- what an Observation is ---------------------------------------------------------------------------

DISEASE_STATUS_LOINC = "97509-4"
ECOG_LOINC = "89247-1"
KARNOFSKY_LOINC = "89243-0"
LANSKY_NCIT = "C38144"
GENOMIC_VARIANT_LOINC = "69548-6"
COMORBIDITIES_SNOMED = "398192003"

# (system, code) -> (kind, stage type).  mCODE STU2+ use SNOMED CT; the LOINC codes are mCODE STU1 / AJCC.
TNM_CODES: dict[tuple[str, str], tuple[str, str]] = {
    (SNOMED, "399504009"): (StageKind.TNM_T, StageType.CLINICAL),
    (SNOMED, "399534004"): (StageKind.TNM_N, StageType.CLINICAL),
    (SNOMED, "399387003"): (StageKind.TNM_M, StageType.CLINICAL),
    (SNOMED, "399537006"): (StageKind.STAGE_GROUP, StageType.CLINICAL),
    (SNOMED, "384625004"): (StageKind.TNM_T, StageType.PATHOLOGICAL),
    (SNOMED, "371494008"): (StageKind.TNM_N, StageType.PATHOLOGICAL),
    (SNOMED, "371497001"): (StageKind.TNM_M, StageType.PATHOLOGICAL),
    (SNOMED, "399588009"): (StageKind.STAGE_GROUP, StageType.PATHOLOGICAL),
    (LOINC, "21905-5"): (StageKind.TNM_T, StageType.CLINICAL),
    (LOINC, "21906-3"): (StageKind.TNM_N, StageType.CLINICAL),
    (LOINC, "21907-1"): (StageKind.TNM_M, StageType.CLINICAL),
    (LOINC, "21908-9"): (StageKind.STAGE_GROUP, StageType.CLINICAL),
    (LOINC, "21899-0"): (StageKind.TNM_T, StageType.PATHOLOGICAL),
    (LOINC, "21900-6"): (StageKind.TNM_N, StageType.PATHOLOGICAL),
    (LOINC, "21901-4"): (StageKind.TNM_M, StageType.PATHOLOGICAL),
    (LOINC, "21902-2"): (StageKind.STAGE_GROUP, StageType.PATHOLOGICAL),
}
STAGE_PROFILES = ("mcode-cancer-stage", "mcode-lymphoma-stage", "mcode-tnm-")

# LOINC codes of common serum and tissue tumor markers, used when the sender did not mark the profile.
TUMOR_MARKER_LOINC = frozenset({
    "2857-1", "35741-8", "10886-0", "83112-3",  # PSA (total, free, ratio)
    "2039-6", "2040-4",  # CEA
    "10334-1", "83082-8",  # CA 125
    "24108-3",  # CA 19-9
    "6875-9", "17842-6",  # CA 15-3 / CA 27.29
    "1834-1", "19176-1",  # AFP
    "19080-1", "21198-7",  # hCG
    "85337-4", "16112-5", "40556-3",  # ER
    "85339-0", "16113-3", "40557-1",  # PR
    "48676-1", "85319-2", "85318-4", "72383-3", "49683-6",  # HER2
    "85329-1", "29593-1",  # Ki-67
    "21659-7",  # BRCA1/2
})
TUMOR_PROFILES = ("mcode-tumor-size", "mcode-histologic", "mcode-tumor-morphology", "mcode-tumor")
# Genomics Reporting IG (used by mCODE STU4) results other than variants: TMB, MSI, implications, regions.
GENOMIC_PROFILE_NAMES = frozenset({"tmb", "msi", "therapeutic-implication", "diagnostic-implication",
                                   "region-studied", "mcode-genomic-region-studied", "molecular-consequence"})
GENOMIC_LOINC = frozenset({"94076-7", "81695-9", "53041-0", "51969-4"})


@dataclass(frozen=True)
class ObservationClass:
    target: str  # stage | disease_status | performance | genomic_variant | observation
    stage_kind: str = ""
    stage_type: str = ""
    instrument: str = ""
    observation_kind: str = ""


def profiles_of(resource: dict[str, Any]) -> tuple[str, ...]:
    meta = resource.get("meta") or {}
    return tuple(p.split("|", 1)[0] for p in meta.get("profile") or ())


def _has_profile(profiles: Sequence[str], *names: str) -> bool:
    return any(p.startswith(MCODE + n) for p in profiles for n in names)


def codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((concept or {}).get("coding") or ())


def category_codes(resource: dict[str, Any]) -> set[str]:
    return {c.get("code", "") for cat in resource.get("category") or () for c in codings(cat)}


def classify_observation(resource: dict[str, Any]) -> ObservationClass:
    profiles = profiles_of(resource)
    codes = {(c.get("system", ""), c.get("code", "")) for c in codings(resource.get("code"))}
    plain = {code for _, code in codes}
    if DISEASE_STATUS_LOINC in plain or _has_profile(profiles, "mcode-cancer-disease-status"):
        return ObservationClass("disease_status")
    if ECOG_LOINC in plain or _has_profile(profiles, "mcode-ecog-performance-status"):
        return ObservationClass("performance", instrument=PerformanceInstrument.ECOG)
    if KARNOFSKY_LOINC in plain or _has_profile(profiles, "mcode-karnofsky-performance-status"):
        return ObservationClass("performance", instrument=PerformanceInstrument.KARNOFSKY)
    if _has_profile(profiles, "mcode-lansky-play-performance-status") or any(
        s in NCIT_SYSTEMS and c == LANSKY_NCIT for s, c in codes
    ):
        return ObservationClass("performance", instrument=PerformanceInstrument.LANSKY)
    if GENOMIC_VARIANT_LOINC in plain or _has_profile(profiles, "mcode-genomic-variant"):
        return ObservationClass("genomic_variant")
    for key in codes:
        if key in TNM_CODES:
            kind, stype = TNM_CODES[key]
            return ObservationClass("stage", stage_kind=kind, stage_type=stype)
    if _has_profile(profiles, *STAGE_PROFILES):
        return ObservationClass("stage", stage_kind=StageKind.OTHER, stage_type=StageType.UNSPECIFIED)
    if _has_profile(profiles, "mcode-tumor-marker-test") or any(
        s == LOINC and c in TUMOR_MARKER_LOINC for s, c in codes
    ):
        return ObservationClass("observation", observation_kind=ObservationKind.TUMOR_MARKER)
    if COMORBIDITIES_SNOMED in plain or _has_profile(profiles, "mcode-comorbidities"):
        return ObservationClass("observation", observation_kind=ObservationKind.COMORBIDITY)
    if _has_profile(profiles, *TUMOR_PROFILES):
        return ObservationClass("observation", observation_kind=ObservationKind.TUMOR)
    if any(p.rsplit("/", 1)[-1] in GENOMIC_PROFILE_NAMES for p in profiles) or any(
        s == LOINC and c in GENOMIC_LOINC for s, c in codes
    ):
        return ObservationClass("observation", observation_kind=ObservationKind.GENOMIC)
    cats = category_codes(resource)
    if "vital-signs" in cats:
        kind = ObservationKind.VITAL_SIGN
    elif "laboratory" in cats:
        kind = ObservationKind.LABORATORY
    elif "social-history" in cats:
        kind = ObservationKind.SOCIAL
    else:
        kind = ObservationKind.OTHER
    return ObservationClass("observation", observation_kind=kind)


# --- what a Condition is ------------------------------------------------------------------------------

_CANCER_WORDS = re.compile(
    r"malignan|carcinoma|cancer|neoplasm|lymphoma|leuka?emia|melanoma|sarcoma|myeloma|blastoma|"
    r"adenocarcinoma|mesothelioma|glioma|tumou?r",
    re.IGNORECASE,
)
_NOT_CANCER = re.compile(r"benign|history of|screening|suspected|family history", re.IGNORECASE)
_SECONDARY_WORDS = re.compile(r"secondary|metasta", re.IGNORECASE)


def _icd10_category(code: str) -> str | None:
    """ICD-10(-CM) chapter II: C00-C96 malignant (C77-C79 secondary), D00-D09 in situ."""
    c = code.upper().replace(".", "")
    if len(c) < 3 or not c[1:3].isdigit():
        return None
    n = int(c[1:3])
    if c[0] == "C":
        return ConditionCategory.SECONDARY if 77 <= n <= 79 else ConditionCategory.PRIMARY
    if c[0] == "D" and n <= 9:
        return ConditionCategory.PRIMARY
    return None


def classify_condition(resource: dict[str, Any]) -> str:
    profiles = profiles_of(resource)
    if _has_profile(profiles, "mcode-primary-cancer-condition"):
        return ConditionCategory.PRIMARY
    if _has_profile(profiles, "mcode-secondary-cancer-condition"):
        return ConditionCategory.SECONDARY
    for coding in codings(resource.get("code")):
        if coding.get("system") in ICD10_SYSTEMS:
            found = _icd10_category(coding.get("code", ""))
            if found:
                return found
    text = " ".join(
        [c.get("display", "") for c in codings(resource.get("code"))] + [(resource.get("code") or {}).get("text", "")]
    )
    if _CANCER_WORDS.search(text) and not _NOT_CANCER.search(text):
        return ConditionCategory.SECONDARY if _SECONDARY_WORDS.search(text) else ConditionCategory.PRIMARY
    return ConditionCategory.COMORBIDITY


# --- what a Procedure is ------------------------------------------------------------------------------

_RADIOTHERAPY_WORDS = re.compile(r"radiation|radiotherapy|brachytherapy|teletherapy|radiosurgery|irradiation",
                                 re.IGNORECASE)
_SURGERY_WORDS = re.compile(r"ectomy\b|resection|excision|amputation|surgical|surgery", re.IGNORECASE)
SURGICAL_PROCEDURE_SNOMED = "387713003"


def classify_procedure(resource: dict[str, Any]) -> str:
    profiles = profiles_of(resource)
    if _has_profile(profiles, "mcode-radiotherapy-course-summary", "mcode-cancer-related-radiation-procedure"):
        return ProcedureKind.RADIOTHERAPY
    if _has_profile(profiles, "mcode-cancer-related-surgical-procedure"):
        return ProcedureKind.SURGICAL
    text = " ".join(c.get("display", "") for c in codings(resource.get("code")))
    text += " " + str((resource.get("code") or {}).get("text", ""))
    if _RADIOTHERAPY_WORDS.search(text):
        return ProcedureKind.RADIOTHERAPY
    if SURGICAL_PROCEDURE_SNOMED in category_codes(resource) or _SURGERY_WORDS.search(text):
        return ProcedureKind.SURGICAL
    return ProcedureKind.OTHER


# --- performance status -------------------------------------------------------------------------------

ECOG_MEANING = {
    0: "Fully active",
    1: "Restricted in strenuous activity, ambulatory",
    2: "Ambulatory, capable of self-care, unable to work",
    3: "Capable of only limited self-care",
    4: "Completely disabled",
    5: "Dead",
}


def performance_score_error(instrument: str, score: int) -> str:
    """Why a score is impossible for its instrument, or '' (ECOG 0-5; Karnofsky, Lansky 0-100 by tens)."""
    if instrument == PerformanceInstrument.ECOG:
        return "" if 0 <= score <= 5 else "ECOG performance status must be 0 to 5."
    if not 0 <= score <= 100 or score % 10:
        return f"{PerformanceInstrument(instrument).label} score must be 0 to 100 in steps of 10."
    return ""


# --- genomic variant components -----------------------------------------------------------------------

GENE_STUDIED = "48018-6"
DNA_CHANGE = "48004-6"
AMINO_ACID_CHANGE = "48005-3"
VARIATION_CODE = "81252-9"
GENOMIC_DNA_CHANGE = "81290-9"
SIGNIFICANCE = "53037-8"
SOURCE_CLASS = "48002-0"
ALLELE_FREQUENCY = "81258-6"
VARIANT_TYPE = "48019-4"
DNA_CHANGE_TYPE = "48019-4"
PRESENT_CODES = frozenset({"LA9633-4"})
ABSENT_CODES = frozenset({"LA9634-2"})
GENE_SYSTEMS = frozenset({HGNC, "http://www.genenames.org/geneId"})


# --- patient matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    patient_id: int
    visible: bool  # the importing actor may see this patient
    birth_date_agrees: bool = True  # the incoming and the registered birth dates are the same


@dataclass(frozen=True)
class MatchDecision:
    action: str  # link | create | review
    patient_id: int | None = None
    reason: str = ""
    candidates: tuple[int, ...] = field(default_factory=tuple)


def decide_patient_match(
    by_identifier: Iterable[Candidate],
    by_name_and_birth_date: Iterable[Candidate],
    near: Iterable[Candidate] = (),
) -> MatchDecision:
    """Identifiers first, then exact given + family name and birth date; anything uncertain goes to review.

    - one visible identifier match with the same birth date: link; identifiers pointing at two patients,
      at a patient with another birth date (a reused or mistyped number), or at a patient of an
      organisation the importer may not see: review (never a silent duplicate, never a disclosure);
    - no identifier match, exactly one visible name + birth date match: link; two or more: review;
    - no exact match but a near one (same family name and birth date, or same names and birth year): review;
    - nothing: create.
    """
    ids = {c.patient_id: c for c in by_identifier}
    if len(ids) > 1:
        return MatchDecision("review", reason="Identifiers match more than one patient.",
                             candidates=tuple(sorted(p for p, c in ids.items() if c.visible)))
    if len(ids) == 1:
        only = next(iter(ids.values()))
        if only.visible and only.birth_date_agrees:
            return MatchDecision("link", only.patient_id, "Identifier match.")
        if only.visible:
            return MatchDecision("review", reason="An identifier matches a patient with another birth date.",
                                 candidates=(only.patient_id,))
        return MatchDecision("review", reason="An identifier matches a patient your organisation cannot see.")
    exact = {c.patient_id: c for c in by_name_and_birth_date if c.visible}
    if len(exact) == 1:
        return MatchDecision("link", next(iter(exact)), "Name and birth date match.")
    if len(exact) > 1:
        return MatchDecision("review", reason="Name and birth date match more than one patient.",
                             candidates=tuple(sorted(exact)))
    close = sorted({c.patient_id for c in near if c.visible})
    if close:
        return MatchDecision("review", reason="A similar patient exists (name or birth date differ).",
                             candidates=tuple(close))
    return MatchDecision("create", reason="No matching patient.")


# --- open issues on the one-page summary --------------------------------------------------------------

PERFORMANCE_STALE_DAYS = 90
WORSENING_CODES = frozenset({"271299001", "LA28291-5"})  # SNOMED "patient's condition worsened", LOINC answer


def open_issues(
    *,
    today: dt.date,
    primary_cancers: Sequence[str],
    staged: bool,
    last_performance: dt.date | None,
    latest_disease_status: tuple[str, str] | None,
    pending_reviews: int = 0,
) -> list[str]:
    """What the care team should look at, in plain words (no identifiers)."""
    issues: list[str] = []
    if primary_cancers and not staged:
        issues.append("No stage is recorded for the active primary cancer.")
    if primary_cancers and (last_performance is None
                            or (today - last_performance).days > PERFORMANCE_STALE_DAYS):
        issues.append(f"No performance status (ECOG or Karnofsky) in the last {PERFORMANCE_STALE_DAYS} days.")
    if latest_disease_status is not None:
        code, display = latest_disease_status
        if code in WORSENING_CODES or "worse" in display.lower() or "progress" in display.lower():
            issues.append(f"Latest disease status: {display or code}.")
    if pending_reviews:
        issues.append(f"{pending_reviews} incoming record(s) may belong to this patient and wait for a "
                      "matching decision.")
    return issues
