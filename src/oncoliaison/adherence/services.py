"""Every write to dispenses, regimens and the stored adherence figures: keyword-only actor, one transaction,
audited inside it.  Objects passed in come from the actor-scoped selectors (patients from access_patient).

Each recorded fill recomputes its drug's figures (every calendar year with fills, and the current year to
date) in the same transaction; a daily job recomputes the current year's, since days without a fill lower it.
When a figure in the denominator falls below 80 % a task goes on the navigator's worklist, once per drug and
year (``AdherenceMeasure.follow_up_task``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.utils import timezone

from oncoliaison.accounts.services import system_actor
from oncoliaison.careplans import services as careplans
from oncoliaison.careplans.models import TaskPriority
from oncoliaison.careplans.selectors import assignable_staff_for
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, DomainError, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import Patient
from oncoliaison.programs.selectors import current_navigators

from . import rules
from .models import AdherenceMeasure, Dispense, DispenseStatus, Regimen
from .selectors import CATEGORY

RXNORM_CODE = re.compile(r"^\d{1,12}$")
FOLLOW_UP_CLIENT = "adherence-follow-up"


def _require_writer(actor: Actor, letter: str) -> None:
    if actor.kind in {"patient", "caregiver"}:
        raise Forbidden("Only the care team and pharmacy systems record dispenses.")
    if actor.is_system and not actor.allows("MedicationDispense", letter):
        raise Forbidden("Token scope does not allow this on MedicationDispense.")
    if not actor.clinical_organization_ids:
        raise Forbidden("Recording dispenses needs a care role.")


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"Someone else changed this in the meantime (version {current}, yours {expected}). Reload and try again.")


def _log(actor: Actor, action: str, resource_type: str, pk: int, patient_id: int, detail: str, channel: str) -> None:
    audit.log(actor, action, category=CATEGORY, resource_type=resource_type, resource_id=pk, patient_id=patient_id,
              detail=detail, channel=channel)


def _org_of(actor: Actor, patient: Patient) -> int:
    if actor.is_system and actor.client_organization_id:
        return actor.client_organization_id
    orgs = actor.clinical_organization_ids
    return patient.organization_id if patient.organization_id in orgs else min(orgs)


def _validate_medication(code: str, display: str, errors: dict[str, list[str]]) -> None:
    if not RXNORM_CODE.match(code.strip()):
        errors["medication_code"] = ["Give the medication's RxNorm code (digits only)."]
    if not display.strip():
        errors["medication_display"] = ["Name the medication."]


# --- dispenses ---------------------------------------------------------------------------------------------


@dataclass
class DispenseData:
    medication_code: str
    medication_display: str
    dispensed_on: dt.date
    days_supply: int
    quantity: Decimal | None = None
    quantity_unit: str = ""
    source_system: str = ""
    source_id: str = ""


def dispense_record(*, actor: Actor, patient: Patient, data: DispenseData, channel: str = "web",
                    refresh: bool = True) -> Dispense:
    """Record a fill and bring the drug's figures up to date (``refresh=False``: the caller refreshes, as
    ``dispenses_record_many`` does once per drug).  A fill re-sent with the same source system and id is the
    one already stored (for the same patient; another patient's is a conflict)."""
    _require_writer(actor, "c")
    errors: dict[str, list[str]] = {}
    _validate_medication(data.medication_code, data.medication_display, errors)
    if data.days_supply < 1:
        errors["days_supply"] = ["The days' supply is at least 1."]
    if data.dispensed_on > clock.today():
        errors["dispensed_on"] = ["The dispense date is in the future."]
    if data.quantity is not None and data.quantity <= 0:
        errors["quantity"] = ["The quantity must be positive."]
    if data.source_id and not data.source_system:
        errors["source_system"] = ["Say which system the source id belongs to."]
    if errors:
        raise ValidationFailed("The dispense is not valid.", field_errors=errors)
    code = data.medication_code.strip()
    if data.source_id:
        existing = Dispense.objects.filter(source_system=data.source_system, source_id=data.source_id).first()
        if existing is not None:
            if existing.patient_id != patient.pk:
                raise Conflict("This source id is already recorded for another patient.")
            return existing
    regimen = Regimen.objects.filter(patient=patient, medication_code=code).first()
    try:
        with transaction.atomic():
            dispense = Dispense.objects.create(
                patient=patient, organization_id=_org_of(actor, patient), medication_code=code,
                medication_display=data.medication_display.strip()[:200], dispensed_on=data.dispensed_on,
                days_supply=data.days_supply, quantity=data.quantity, quantity_unit=data.quantity_unit.strip()[:30],
                regimen=regimen, source_system=data.source_system[:200], source_id=data.source_id[:200],
                created_by_id=actor.user_id)
            _log(actor, AuditAction.CREATE, "MedicationDispense", dispense.pk, patient.pk,
                 f"{code}, {data.days_supply} days", channel)
            if refresh:
                measures_refresh(patient=patient, medication_code=code, channel=channel)
    except IntegrityError as exc:
        raise Conflict("This dispense was recorded at the same moment by another request.") from exc
    return dispense


def dispenses_record_many(*, actor: Actor, items: Sequence[tuple[Patient, DispenseData]], channel: str = "web"
                          ) -> list[Dispense | DomainError]:
    """A batch (a pharmacy's import): each fill recorded on its own (one refused does not undo the others),
    then each drug's figures computed once — so fills sent late in one batch raise no follow-up for the gaps
    between them that the batch itself fills."""
    out: list[Dispense | DomainError] = []
    with transaction.atomic():
        for patient, data in items:
            try:
                with transaction.atomic():
                    out.append(dispense_record(actor=actor, patient=patient, data=data, channel=channel,
                                               refresh=False))
            except DomainError as exc:
                out.append(exc)
        for patient_id, code in dict.fromkeys((d.patient_id, d.medication_code) for d in out
                                              if isinstance(d, Dispense)):
            patient = next(p for p, _d in items if p.pk == patient_id)
            measures_refresh(patient=patient, medication_code=code, channel=channel)
    return out


def dispense_mark_error(*, actor: Actor, dispense: Dispense, expected_version: int | None = None,
                        channel: str = "web") -> Dispense:
    """Withdraw a wrong entry (kept, marked entered in error, left out of the figures)."""
    _require_writer(actor, "u")
    with transaction.atomic():
        locked = Dispense.objects.select_for_update().get(pk=dispense.pk)
        _check_version(locked.version, expected_version)
        if locked.status == DispenseStatus.ENTERED_IN_ERROR:
            return locked
        locked.status = DispenseStatus.ENTERED_IN_ERROR
        locked.version += 1
        locked.save(update_fields=["status", "version", "updated_at"])
        _log(actor, AuditAction.UPDATE, "MedicationDispense", locked.pk, locked.patient_id, "entered in error",
             channel)
        measures_refresh(patient=locked.patient, medication_code=locked.medication_code, channel=channel)
    return locked


# --- regimens ----------------------------------------------------------------------------------------------


@dataclass
class RegimenData:
    medication_code: str
    medication_display: str
    starts_on: dt.date
    days_on: int
    days_off: int
    note: str = ""


def regimen_set(*, actor: Actor, patient: Patient, data: RegimenData, expected_version: int | None = None,
                channel: str = "web") -> Regimen:
    """Record (or change) the patient's cyclic schedule for a drug; the drug's figures follow it."""
    _require_writer(actor, "u")
    errors: dict[str, list[str]] = {}
    _validate_medication(data.medication_code, data.medication_display, errors)
    if data.days_on < 1:
        errors["days_on"] = ["A cycle has at least one dosing day."]
    if data.days_off < 0:
        errors["days_off"] = ["Give the off days (0 for daily use)."]
    if errors:
        raise ValidationFailed("The regimen is not valid.", field_errors=errors)
    code = data.medication_code.strip()
    with transaction.atomic():
        regimen = Regimen.objects.select_for_update().filter(patient=patient, medication_code=code).first()
        if regimen is None:
            regimen = Regimen(patient=patient, medication_code=code, created_by_id=actor.user_id)
            action = AuditAction.CREATE
        else:
            _check_version(regimen.version, expected_version)
            regimen.version += 1
            action = AuditAction.UPDATE
        regimen.medication_display = data.medication_display.strip()[:200]
        regimen.starts_on, regimen.days_on, regimen.days_off = data.starts_on, data.days_on, data.days_off
        regimen.note = data.note.strip()[:300]
        regimen.save()
        Dispense.objects.filter(patient=patient, medication_code=code, regimen__isnull=True).update(regimen=regimen)
        _log(actor, action, "MedicationDispense", regimen.pk, patient.pk,
             f"regimen {code}: {data.days_on} on, {data.days_off} off", channel)
        measures_refresh(patient=patient, medication_code=code, channel=channel)
    return regimen


# --- the figures -------------------------------------------------------------------------------------------


def _decimal(value: Fraction | None) -> Decimal | None:
    return None if value is None else (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"))


def measures_refresh(*, patient: Patient, medication_code: str, channel: str = "web",
                     today: dt.date | None = None) -> list[AdherenceMeasure]:
    """Recompute one drug's figures for every calendar year with fills and the current year to date (called
    inside the writer's transaction), and raise the follow-up task where one falls below 80 %."""
    today = today or clock.today()
    fills = list(Dispense.objects.filter(patient=patient, medication_code=medication_code,
                                         status=DispenseStatus.COMPLETED).order_by("dispensed_on", "pk"))
    regimen = Regimen.objects.filter(patient=patient, medication_code=medication_code).first()
    cycle = rules.Cycle(regimen.starts_on, regimen.days_on, regimen.days_off) if regimen else None
    display = regimen.medication_display if regimen else next((f.medication_display for f in reversed(fills)), "")
    years = {f.dispensed_on.year for f in fills} | ({today.year} if fills else set())
    years |= set(AdherenceMeasure.objects.filter(patient=patient, medication_code=medication_code)
                 .values_list("year", flat=True))
    out: list[AdherenceMeasure] = []
    for year in sorted(years):
        period = rules.calendar_year_period(year, today=today)
        if period is None:
            continue
        result = rules.adherence([rules.Fill(f.dispensed_on, f.days_supply) for f in fills],
                                 period_start=period[0], period_end=period[1], cycle=cycle)
        measure, _created = AdherenceMeasure.objects.select_for_update().get_or_create(
            patient=patient, medication_code=medication_code, year=year,
            defaults={"medication_display": display, "period_start": period[0], "period_end": period[1]})
        values = {"medication_display": display or measure.medication_display, "period_start": period[0],
                  "period_end": period[1], "index_date": result.index_date, "fill_dates": result.fill_dates,
                  "in_denominator": result.in_denominator, "denominator_days": result.denominator_days,
                  "covered_days": result.covered_days, "supply_days": result.supply_days,
                  "pdc": _decimal(result.pdc), "mpr": _decimal(result.mpr), "adherent": result.adherent,
                  "cyclic": result.cyclic}
        if any(getattr(measure, k) != v for k, v in values.items()) or _created:
            for k, v in values.items():
                setattr(measure, k, v)
            measure.version += 0 if _created else 1
        measure.save()  # also on no change: updated_at says when it was last computed
        if result.below_threshold and measure.follow_up_task_id is None:
            _raise_follow_up(patient, measure, result, channel)
        out.append(measure)
    return out


def _raise_follow_up(patient: Patient, measure: AdherenceMeasure, result: rules.Adherence, channel: str) -> None:
    """A task in the patient's open care plan (drafted when there is none), for their navigator, raised by the
    program (a system actor of the patient's organisation) whoever recorded the fill."""
    actor = system_actor(organization_id=patient.organization_id, client_id=FOLLOW_UP_CLIENT, scopes=None,
                         username=f"job:{FOLLOW_UP_CLIENT}")
    plan = careplans.care_plan_open_or_draft(actor=actor, patient=patient, channel=channel)
    navigator = current_navigators([patient.pk]).get(patient.pk)
    owner = navigator if navigator and assignable_staff_for(actor, patient).filter(pk=navigator).exists() else None
    period = str(measure.year) if measure.period_end == dt.date(measure.year, 12, 31) else f"{measure.year} to date"
    task = careplans.task_create(actor=actor, plan=plan, channel=channel, data=careplans.TaskData(
        description=(f"Adherence: {measure.medication_display} PDC {rules.percent(result.pdc)} ({period}), below "
                     "80 % — talk with the patient about missed doses and barriers")[:300],
        owner_id=owner, due_date=None, priority=TaskPriority.ROUTINE))
    AdherenceMeasure.objects.filter(pk=measure.pk).update(follow_up_task=task)
    measure.follow_up_task = task


REFRESH_BATCH = 200


def measures_refresh_due(now: dt.datetime, *, limit: int = REFRESH_BATCH) -> int:
    """The daily job: the current year's figures not computed today are computed again (a day without supply
    lowers the year to date); returns how many drugs were refreshed."""
    local = timezone.localtime(now)
    today, start_of_day = local.date(), local.replace(hour=0, minute=0, second=0, microsecond=0)
    due = list(AdherenceMeasure.objects.filter(updated_at__lt=start_of_day, year=today.year)
               .order_by("updated_at").values_list("patient_id", "medication_code")[:limit])
    for patient_id, code in due:
        with transaction.atomic():
            measures_refresh(patient=Patient.objects.get(pk=patient_id), medication_code=code, channel="job",
                             today=today)
    return len(due)
