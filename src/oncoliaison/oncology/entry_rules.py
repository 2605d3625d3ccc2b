"""Pure rules of entering and correcting the cancer record by hand: what a complete entry is, and the stored
fields it becomes (codes resolved from ``codes`` — a display text is never taken from the browser).

No database, no clock: the caller passes ``today``.  Each function returns (fields, errors); errors map a
field name to sentences a clinician can act on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from . import codes
from .models import (
    AMENDED,
    ENTERED_IN_ERROR,
    LOINC,
    SNOMED,
    ClinicalStatus,
    ConditionCategory,
    MedicationSource,
    ObservationKind,
    PerformanceInstrument,
    ProcedureKind,
    StageKind,
    StageType,
    VerificationStatus,
)
from .rules import TNM_CODES, performance_score_error

Errors = dict[str, list[str]]
Fields = dict[str, Any]

# The field holding a row's status, and the statuses a hand entry may set, per record type.
STATUS_FIELD = {"condition": "verification_status", "stage": "status", "marker": "status", "procedure": "status",
                "medication": "status", "performance": "status"}
PROCEDURE_STATUSES = {"completed": "Completed", "in-progress": "In progress", "not-done": "Not done",
                      "stopped": "Stopped"}
MEDICATION_STATUSES = {"active": "Active", "completed": "Completed", "stopped": "Stopped", "on-hold": "On hold"}
STAGE_CODE = {(kind, stype): code for (system, code), (kind, stype) in TNM_CODES.items() if system == SNOMED}
STAGE_VALUES: dict[str, list[str]] = {StageKind.TNM_T: codes.T_CATEGORIES, StageKind.TNM_N: codes.N_CATEGORIES,
                StageKind.TNM_M: codes.M_CATEGORIES, StageKind.STAGE_GROUP: codes.STAGE_GROUPS}
STAGE_LABEL: dict[str, str] = {StageKind.TNM_T: "T", StageKind.TNM_N: "N", StageKind.TNM_M: "M", StageKind.STAGE_GROUP: "stage group"}


def _err(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _date(errors: Errors, name: str, value: dt.date | None, today: dt.date, *, required: bool = False,
          label: str = "date") -> None:
    if value is None:
        if required:
            _err(errors, name, f"Enter the {label}.")
    elif value > today:
        _err(errors, name, f"The {label} cannot be in the future.")
    elif value.year < 1900:
        _err(errors, name, f"Check the {label}: it is before 1900.")


def _pick(errors: Errors, name: str, table: list[codes.Code], code: str, *, required: bool = False,
          label: str = "value") -> codes.Code | None:
    if not code:
        if required:
            _err(errors, name, f"Choose the {label}.")
        return None
    found = codes.find(table, code)
    if found is None:
        _err(errors, name, f"Choose the {label} from the list.")
    return found


def in_error_status(record_type: str) -> str:
    return ENTERED_IN_ERROR


def amended_status(record_type: str, current: str) -> str:
    """Observation-like rows become 'amended' (FHIR ObservationStatus); others keep their status."""
    return AMENDED if record_type in {"stage", "marker", "performance"} else current


# --- diagnosis ------------------------------------------------------------------------------------------


def condition_fields(v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    errors: Errors = {}
    category = v.get("category") or ConditionCategory.PRIMARY
    if category not in {ConditionCategory.PRIMARY, ConditionCategory.SECONDARY}:
        _err(errors, "category", "Choose primary or secondary (metastatic) cancer.")
    cancer = _pick(errors, "code", codes.CONDITIONS, v.get("code", ""), required=True, label="diagnosis")
    site = _pick(errors, "body_site", codes.BODY_SITES, v.get("body_site", ""), label="body site")
    side = _pick(errors, "laterality", codes.LATERALITY, v.get("laterality", ""), label="laterality")
    histology = _pick(errors, "histology", codes.HISTOLOGY, v.get("histology", ""), label="histology")
    _date(errors, "diagnosed_on", v.get("diagnosed_on"), today, required=True, label="date of diagnosis")
    clinical = v.get("clinical_status") or ClinicalStatus.ACTIVE
    if clinical not in ClinicalStatus.values:
        _err(errors, "clinical_status", "Choose the clinical status from the list.")
    verification = v.get("verification_status") or VerificationStatus.CONFIRMED
    if verification not in VerificationStatus.values or verification == ENTERED_IN_ERROR:
        _err(errors, "verification_status", "Choose the verification status from the list (to withdraw a wrong "
                                            "entry, mark it as entered in error).")
    if errors:
        return {}, errors
    assert cancer is not None
    return {
        "category": category, "code_system": cancer.system, "code": cancer.code, "display": cancer.display,
        "body_site_system": site.system if site else "", "body_site_code": site.code if site else "",
        "body_site_display": site.display if site else "",
        "laterality_code": side.code if side else "", "laterality": side.display if side else "",
        "histology_system": histology.system if histology else "",
        "histology_code": histology.code if histology else "",
        "histology_display": histology.display if histology else "",
        "diagnosed_on": v.get("diagnosed_on"), "clinical_status": clinical, "verification_status": verification,
    }, {}


# --- staging ----------------------------------------------------------------------------------------------


def _stage_value(kind: str, stage_type: str, value: str) -> tuple[str, str, str]:
    """(value system, value code, value display) of one category value; the display carries the c/p prefix."""
    prefixes: dict[str, str] = {StageType.CLINICAL: "c", StageType.PATHOLOGICAL: "p"}
    prefix = prefixes.get(stage_type, "")
    shown = value if kind == StageKind.STAGE_GROUP else f"{prefix}{value}"
    coded = codes.TNM_VALUE_CODES.get(shown)
    return (coded.system, coded.code, shown) if coded else ("", "", shown)


def stage_row_fields(kind: str, v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    """One staging row (a T, N, M category or the stage group)."""
    errors: Errors = {}
    stage_type = v.get("stage_type", "")
    if stage_type not in {StageType.CLINICAL, StageType.PATHOLOGICAL}:
        _err(errors, "stage_type", "Choose clinical or pathological staging.")
    value = v.get("value", "")
    if kind not in STAGE_VALUES:
        _err(errors, "value", "Unknown staging category.")
    elif value not in STAGE_VALUES[kind]:
        _err(errors, "value", f"Choose the {STAGE_LABEL[kind]} from the list (AJCC 8th edition).")
    _date(errors, "effective_on", v.get("effective_on"), today, required=True, label="date of staging")
    if errors:
        return {}, errors
    value_system, value_code, shown = _stage_value(kind, stage_type, value)
    code = STAGE_CODE[(kind, stage_type)]
    return {
        "kind": kind, "stage_type": stage_type, "code_system": SNOMED, "code": code,
        "display": f"{'Clinical' if stage_type == StageType.CLINICAL else 'Pathological'} "
                   f"{STAGE_LABEL[kind] if kind == StageKind.STAGE_GROUP else STAGE_LABEL[kind] + ' category'}",
        "value_system": value_system, "value_code": value_code, "value_display": shown,
        "system_code": codes.AJCC_8.code, "system_display": codes.AJCC_8.display, "status": "final",
        "effective_on": v.get("effective_on"),
    }, {}


def stage_rows(v: dict[str, Any], *, today: dt.date) -> tuple[list[Fields], Errors]:
    """A staging assessment: any of T, N, M and the stage group of one date and type."""
    rows: list[Fields] = []
    errors: Errors = {}
    given = [(kind, v.get(name, "")) for kind, name in ((StageKind.TNM_T, "t"), (StageKind.TNM_N, "n"),
                                                        (StageKind.TNM_M, "m"), (StageKind.STAGE_GROUP, "group"))]
    if not any(value for _k, value in given):
        _err(errors, "group", "Enter at least one of T, N, M or the stage group.")
    for kind, value in given:
        if not value:
            continue
        fields, problems = stage_row_fields(kind, {**v, "value": value}, today=today)
        for name, messages in problems.items():
            target = {StageKind.TNM_T: "t", StageKind.TNM_N: "n", StageKind.TNM_M: "m",
                      StageKind.STAGE_GROUP: "group"}[kind] if name == "value" else name
            for message in messages:
                if message not in errors.get(target, []):
                    _err(errors, target, message)
        rows.append(fields)
    return ([] if errors else rows), errors


# --- biomarkers ----------------------------------------------------------------------------------------------


def marker_fields(v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    errors: Errors = {}
    test = next((m for m in codes.TUMOR_MARKERS if m.code.code == v.get("test")), None)
    if test is None:
        _err(errors, "test", "Choose the biomarker test from the list.")
    _date(errors, "effective_on", v.get("effective_on"), today, required=True, label="date of the result")
    answer: codes.Code | None = None
    number: Decimal | None = v.get("value")
    if test is not None and test.qualitative:
        answer = _pick(errors, "answer", codes.MARKER_ANSWERS, v.get("answer", ""), required=True,
                       label="result (positive or negative)")
        if number is not None:
            _err(errors, "value", "This test is reported as positive or negative, not as a number.")
    elif test is not None:
        if number is None:
            _err(errors, "value", f"Enter the measured value in {test.unit}.")
        elif number < 0:
            _err(errors, "value", "A measured value cannot be negative.")
        if v.get("answer"):
            _err(errors, "answer", f"This test is measured in {test.unit}; enter the value instead.")
    if errors:
        return {}, errors
    assert test is not None
    return {
        "kind": ObservationKind.TUMOR_MARKER, "code_system": LOINC, "code": test.code.code,
        "display": test.code.display, "status": "final",
        "value_quantity": number if answer is None else None, "value_unit": test.unit if answer is None else "",
        "value_system": answer.system if answer else "", "value_code": answer.code if answer else "",
        "value_display": answer.display if answer else "", "effective_on": v.get("effective_on"),
    }, {}


# --- treatments ------------------------------------------------------------------------------------------------


def _period(errors: Errors, v: dict[str, Any], today: dt.date, *, future_end: bool = False) -> None:
    start, end = v.get("start"), v.get("end")
    _date(errors, "start", start, today, required=True, label="start date")
    if end is not None and start is not None and end < start:
        _err(errors, "end", "The end date is before the start date.")
    elif end is not None and not future_end:
        _date(errors, "end", end, today, label="end date")


def procedure_fields(v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    errors: Errors = {}
    kind = v.get("kind", "")
    code: codes.Code | None = None
    if kind == ProcedureKind.SURGICAL:
        code = _pick(errors, "code", codes.SURGERIES, v.get("code", ""), required=True, label="operation")
    elif kind == ProcedureKind.RADIOTHERAPY:
        code = codes.RADIOTHERAPY_COURSE
    else:
        _err(errors, "kind", "Choose surgery or radiotherapy.")
    modality = _pick(errors, "modality", codes.RADIOTHERAPY_MODALITIES, v.get("modality", ""),
                     label="radiotherapy modality") if kind == ProcedureKind.RADIOTHERAPY else None
    intent = _pick(errors, "intent", codes.TREATMENT_INTENTS, v.get("intent", ""), label="treatment intent")
    site = _pick(errors, "body_site", codes.BODY_SITES, v.get("body_site", ""), label="body site")
    side = _pick(errors, "laterality", codes.LATERALITY, v.get("laterality", ""), label="laterality")
    status = v.get("status") or "completed"
    if status not in PROCEDURE_STATUSES:
        _err(errors, "status", "Choose the status from the list.")
    _period(errors, v, today)
    sessions, dose = v.get("sessions"), v.get("total_dose_cgy")
    if kind != ProcedureKind.RADIOTHERAPY and (sessions is not None or dose is not None):
        _err(errors, "sessions", "Sessions and dose are recorded for radiotherapy only.")
    if sessions is not None and not 1 <= sessions <= 100:
        _err(errors, "sessions", "Sessions must be between 1 and 100.")
    if dose is not None and not Decimal(0) < dose <= Decimal(20000):
        _err(errors, "total_dose_cgy", "The total dose must be more than 0 and at most 20,000 cGy.")
    if errors:
        return {}, errors
    assert code is not None
    return {
        "kind": kind, "code_system": code.system, "code": code.code, "display": code.display, "status": status,
        "intent_code": intent.code if intent else "", "intent_display": intent.display if intent else "",
        "body_site_code": site.code if site else "", "body_site_display": site.display if site else "",
        "laterality": side.display if side else "", "performed_start": v.get("start"),
        "performed_end": v.get("end"), "modality": modality.display if modality else "", "sessions": sessions,
        "total_dose_cgy": dose,
    }, {}


def medication_fields(v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    errors: Errors = {}
    drug = _pick(errors, "code", codes.MEDICATIONS, v.get("code", ""), required=True, label="medication")
    intent = _pick(errors, "intent", codes.TREATMENT_INTENTS, v.get("intent", ""), label="treatment intent")
    status = v.get("status") or "active"
    if status not in MEDICATION_STATUSES:
        _err(errors, "status", "Choose the status from the list.")
    source_type = v.get("source_type") or MedicationSource.REQUEST
    if source_type not in MedicationSource.values:
        _err(errors, "source_type", "Choose prescribed or administered.")
    _period(errors, v, today, future_end=True)
    if status == "stopped" and not (v.get("termination_reason") or "").strip():
        _err(errors, "termination_reason", "Say why the medication was stopped.")
    dose = (v.get("dose_text") or "").strip()
    if len(dose) > 255:
        _err(errors, "dose_text", "Keep the dose under 255 characters.")
    if errors:
        return {}, errors
    assert drug is not None
    return {
        "source_type": source_type, "code_system": drug.system, "code": drug.code, "display": drug.display,
        "status": status, "request_intent": "order" if source_type == MedicationSource.REQUEST else "",
        "intent_code": intent.code if intent else "", "intent_display": intent.display if intent else "",
        "start": v.get("start"), "end": v.get("end"), "dose_text": dose,
        "termination_reason": (v.get("termination_reason") or "").strip()[:200],
    }, {}


# --- performance status ------------------------------------------------------------------------------------------


def performance_fields(v: dict[str, Any], *, today: dt.date) -> tuple[Fields, Errors]:
    """ECOG 0-5 (LOINC 89247-1) with the published definition of the grade as its interpretation."""
    errors: Errors = {}
    score = v.get("score")
    if score is None:
        _err(errors, "score", "Choose the ECOG grade.")
    else:
        problem = performance_score_error(PerformanceInstrument.ECOG, int(score))
        if problem:
            _err(errors, "score", problem)
    _date(errors, "effective_on", v.get("effective_on"), today, required=True, label="date of the assessment")
    if errors:
        return {}, errors
    grade = int(score)  # type: ignore[arg-type]  # not None: a missing grade returned with its error
    return {"instrument": PerformanceInstrument.ECOG, "score": grade,
            "interpretation": codes.ECOG_DEFINITIONS[grade], "status": "final",
            "effective_on": v.get("effective_on")}, {}


def reason_errors(reason: str) -> Errors:
    text = reason.strip()
    if not text:
        return {"reason": ["Say why the record is corrected (kept with its history)."]}
    if len(text) > 500:
        return {"reason": ["Keep the reason under 500 characters."]}
    return {}

