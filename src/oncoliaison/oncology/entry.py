"""Every hand-made write to the cancer record (the pages' entry and correction forms, and referral acceptance).

One transaction each, audited inside it.  Entry records who entered the row; a correction never overwrites
unseen: the row's previous fields are kept as a ``CancerRecordRevision`` (its version), the row's version
goes up (the caller's ``expected_version`` must match), observation-like rows become 'amended', and a wrong
entry is marked 'entered-in-error' (kept with its history and left out of the summary; the FHIR API
shows it with that status, as FHIR expects).  Imports keep their own path (``services.cancer_record_import``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.forms.models import model_to_dict
from django.utils import timezone

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import access_patient

from . import entry_rules
from .models import (
    ENTERED_IN_ERROR,
    CancerCondition,
    CancerRecordRevision,
    CancerStage,
    ClinicalObservation,
    Medication,
    PerformanceStatus,
    Procedure,
    RevisionAction,
    StageKind,
)

CATEGORY = "oncology"
RECORD_MODELS: dict[str, type[Model]] = {
    "condition": CancerCondition, "stage": CancerStage, "marker": ClinicalObservation, "procedure": Procedure,
    "medication": Medication, "performance": PerformanceStatus,
}
FHIR_TYPE = {"condition": "Condition", "stage": "Observation", "marker": "Observation", "procedure": "Procedure",
             "medication": "MedicationRequest", "performance": "Observation"}
RuleFn = Callable[..., tuple[dict[str, Any], dict[str, list[str]]]]
# How a correction's input becomes stored fields (a stage row is corrected one category at a time).
CORRECTION_RULES: dict[str, RuleFn] = {
    "condition": entry_rules.condition_fields, "marker": entry_rules.marker_fields,
    "procedure": entry_rules.procedure_fields, "medication": entry_rules.medication_fields,
    "performance": entry_rules.performance_fields,
}
REFERRAL_SOURCE = "urn:oncoliaison:referral"


def may_write_record(actor: Actor) -> bool:
    """Entering and correcting the cancer record is for care staff (a clinical role at a care organisation)."""
    return actor.kind == "staff" and bool(actor.clinical_organization_ids)


def require_record_writer(actor: Actor) -> None:
    if not may_write_record(actor):
        raise Forbidden("Only care staff can enter or correct the cancer record.")


def _fail(errors: dict[str, list[str]], message: str = "The entry is not complete.") -> None:
    if errors:
        raise ValidationFailed(message, field_errors=errors)


def _moment(day: dt.date | None) -> dt.datetime | None:
    """A date entered on a page as the local noon of that day (the time of day is not known)."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _condition_of(patient: Patient, condition_id: int | None) -> int | None:
    if condition_id is None:
        return None
    if not CancerCondition.objects.filter(pk=condition_id, patient=patient).exists():
        raise ValidationFailed("Choose one of this patient's cancers.", field_errors={"condition": ["Unknown."]})
    return condition_id


def _audit(actor: Actor, action: str, record_type: str, obj: Model, patient_id: int, detail: str,
           channel: str) -> None:
    audit.log(actor, action, category=CATEGORY, resource_type=FHIR_TYPE[record_type], resource_id=obj.pk,
              patient_id=patient_id, detail=detail, channel=channel)


def _writable_patient(actor: Actor, patient_id: int, channel: str) -> Patient:
    require_record_writer(actor)
    return access_patient(actor, patient_id, category=CATEGORY, channel=channel, audit_read=False)


# --- entry -------------------------------------------------------------------------------------------------


def record_enter(*, actor: Actor, record_type: str, patient_id: int, values: dict[str, Any],
                 channel: str = "web") -> list[Model]:
    """Enter one fact (a staging assessment is up to four rows) for a patient the actor may see."""
    patient = _writable_patient(actor, patient_id, channel)
    today = clock.today()
    rows: list[dict[str, Any]]
    if record_type == "stage":
        rows, errors = entry_rules.stage_rows(values, today=today)
    elif record_type in CORRECTION_RULES:
        fields, errors = CORRECTION_RULES[record_type](values, today=today)
        rows = [fields]
    else:
        raise NotFound()
    _fail(errors)
    model = RECORD_MODELS[record_type]
    with transaction.atomic():
        condition_id = _condition_of(patient, values.get("condition")) if record_type != "condition" else None
        created: list[Model] = []
        for fields in rows:
            obj = model(patient=patient, entered_by_id=actor.user_id, **_stored(record_type, fields))
            if record_type not in {"condition", "performance"}:
                obj.condition_id = condition_id  # type: ignore[attr-defined]  # these record models belong to a condition
            obj.save()
            created.append(obj)
            _audit(actor, AuditAction.CREATE, record_type, obj, patient.pk, f"{record_type} entered", channel)
    return created


def _stored(record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Entered dates become the model's date-times where it keeps one."""
    out = dict(fields)
    if record_type in {"marker", "performance"}:
        out["effective_at"] = _moment(out.pop("effective_on"))
    if record_type == "procedure":
        out["performed_start"] = _moment(out["performed_start"])
        out["performed_end"] = _moment(out["performed_end"])
    if record_type == "medication":
        out["start"], out["end"] = _moment(out["start"]), _moment(out["end"])
    return out


# --- correction -------------------------------------------------------------------------------------------------


def _snapshot(obj: Model) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    return {k: plain(v) for k, v in model_to_dict(obj).items() if k not in {"patient", "entered_by"}}


def _locked_record(actor: Actor, record_type: str, record_id: int, expected_version: int | None,
                   channel: str) -> tuple[Model, Patient]:
    model = RECORD_MODELS.get(record_type)
    if model is None:
        raise NotFound()
    require_record_writer(actor)
    row = model._default_manager.filter(pk=record_id).values_list("patient_id", flat=True).first()
    if row is None:
        raise NotFound()
    patient = access_patient(actor, row, category=CATEGORY, channel=channel, audit_read=False)
    obj = model._default_manager.select_for_update().get(pk=record_id)
    status_field = entry_rules.STATUS_FIELD[record_type]
    if getattr(obj, status_field) == ENTERED_IN_ERROR:
        raise Conflict("This entry was marked as entered in error; enter the fact again instead.")
    if expected_version is not None and expected_version != obj.version:  # type: ignore[attr-defined]  # every record model has version
        raise PreconditionFailed("The record was changed by someone else while you were looking at it. "
                                 "Reload it and apply your correction again.")
    return obj, patient


def _keep_revision(actor: Actor, record_type: str, obj: Model, patient: Patient, action: str, reason: str) -> None:
    CancerRecordRevision.objects.create(
        patient=patient, record_type=record_type, record_id=obj.pk, version=obj.version,  # type: ignore[attr-defined]  # every record model has version
        action=action, snapshot=_snapshot(obj), reason=reason.strip()[:500], changed_by_id=actor.user_id,
        changed_at=clock.now(),
    )


def record_correct(*, actor: Actor, record_type: str, record_id: int, values: dict[str, Any], reason: str,
                   expected_version: int | None, channel: str = "web") -> Model:
    """Amend a row: the previous version is kept, the row takes the corrected fields."""
    errors = entry_rules.reason_errors(reason)
    today = clock.today()
    if record_type == "stage":
        kind = CancerStage.objects.filter(pk=record_id).values_list("kind", flat=True).first() or StageKind.OTHER
        fields, problems = entry_rules.stage_row_fields(kind, values, today=today)
    elif record_type in CORRECTION_RULES:
        fields, problems = CORRECTION_RULES[record_type](values, today=today)
    else:
        raise NotFound()
    _fail({**problems, **errors}, "The correction is not complete.")
    with transaction.atomic():
        obj, patient = _locked_record(actor, record_type, record_id, expected_version, channel)
        _keep_revision(actor, record_type, obj, patient, RevisionAction.AMENDED, reason)
        for name, value in _stored(record_type, fields).items():
            setattr(obj, name, value)
        status_field = entry_rules.STATUS_FIELD[record_type]
        if status_field == "status":
            obj.status = entry_rules.amended_status(record_type, obj.status)  # type: ignore[attr-defined]  # models with an amended status have status
        obj.version += 1  # type: ignore[attr-defined]  # every record model has version
        obj.save()
        _audit(actor, AuditAction.UPDATE, record_type, obj, patient.pk, f"{record_type} corrected", channel)
    return obj


def record_mark_in_error(*, actor: Actor, record_type: str, record_id: int, reason: str,
                         expected_version: int | None, channel: str = "web") -> Model:
    """Withdraw a wrong entry: kept with its history, marked 'entered-in-error'."""
    _fail(entry_rules.reason_errors(reason), "Say why the entry is wrong.")
    with transaction.atomic():
        obj, patient = _locked_record(actor, record_type, record_id, expected_version, channel)
        _keep_revision(actor, record_type, obj, patient, RevisionAction.ENTERED_IN_ERROR, reason)
        setattr(obj, entry_rules.STATUS_FIELD[record_type], ENTERED_IN_ERROR)
        obj.version += 1  # type: ignore[attr-defined]  # every record model has version
        obj.save()
        _audit(actor, AuditAction.UPDATE, record_type, obj, patient.pk, f"{record_type} marked entered in error",
               channel)
    return obj


# --- from an accepted referral ---------------------------------------------------------------------------------------


def record_from_referral(*, actor: Actor, patient: Patient, referral_id: int, code_system: str, code: str,
                         text: str, stage_text: str, channel: str = "") -> CancerCondition | None:
    """What the referral said about the cancer, recorded on the patient's record as unconfirmed (the referrer's
    word, to be confirmed by the program), with the referral as its source.  Nothing when the referral named no
    cancer, or when the patient's record already holds this diagnosis.  Runs inside the accepting transaction.
    """
    from . import codes

    text, code = text.strip(), code.strip()
    if not text and not code:
        return None
    known = codes.find(codes.CONDITIONS, code) if code else None
    display = (known.display if known else "") or text or code
    existing = CancerCondition.objects.filter(patient=patient).exclude(verification_status=ENTERED_IN_ERROR)
    if (code and existing.filter(code=code).exists()) or (not code and existing.filter(display=display).exists()):
        return None
    stage = stage_text.strip()
    stage = stage.removeprefix("Stage ").removeprefix("stage ").strip()
    staged = stage if stage.upper() in {s.upper() for s in codes.STAGE_GROUPS} else ""
    condition = CancerCondition.objects.create(
        patient=patient, code_system=code_system[:100] if code else "", code=code[:40], display=display[:200],
        verification_status="unconfirmed", clinical_status="active", asserted_on=clock.today(),
        stage_group=next((s for s in codes.STAGE_GROUPS if s.upper() == staged.upper()), ""),
        source_system=REFERRAL_SOURCE, source_id=f"ServiceRequest/{referral_id}", entered_by_id=actor.user_id,
    )
    audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="Condition", resource_id=condition.pk,
              patient_id=patient.pk, detail="condition from referral", channel=channel)
    return condition
