"""Report schedules of patients, and the due work the scheduled job hands to tasks (ids in, safe to run
twice: escalation and reminders are claimed with a conditional UPDATE)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    NotFound,
    ValidationFailed,
)
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import (
    InstrumentVersion,
)
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import visible_patient_ids_q

from .. import rules
from ..models import (
    ActionKind,
    Alert,
    AlertAction,
    AlertStatus,
    ReportSchedule,
    ScoringMethod,
)
from .alerts import (
    overdue_escalation_target,
    require_care_role,
)
from .configuration import (
    CATEGORY,
    JOB_ACTOR,
    PURPOSE,
    instrument_on,
    program_time_zone,
    scoring_of,
)

# --- scheduled jobs (called by tasks.py; ids in, safe to run twice) -------------------------------------


def alerts_due_for_escalation(now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(Alert.objects.filter(status=AlertStatus.OPEN, deadline__lt=now).values_list("pk", flat=True))


def alert_escalate_overdue(alert_id: int, *, now: dt.datetime | None = None) -> bool:
    """Escalate one unacknowledged alert whose deadline passed to the CLP / physician.  The conditional
    UPDATE claims it, so two workers (or a re-run) escalate it once.  Returns whether this call did."""
    now = now or clock.now()
    with transaction.atomic():
        alert = Alert.objects.filter(pk=alert_id).first()
        if alert is None:
            return False
        target = overdue_escalation_target(alert)
        claimed = Alert.objects.filter(pk=alert_id, status=AlertStatus.OPEN, deadline__lt=now).update(
            status=AlertStatus.ESCALATED, escalated_at=now, escalated_to_id=target, version=F("version") + 1,
        )
        if not claimed:
            return False
        AlertAction.objects.create(alert_id=alert_id, kind=ActionKind.ESCALATED_AUTOMATICALLY, at=now,
                                   note="No acknowledgement before the response deadline.")
        audit.log(JOB_ACTOR, AuditAction.UPDATE, category=CATEGORY, resource_type="Flag", resource_id=alert_id,
                  patient_id=alert.patient_id, detail="escalated: deadline passed", channel="job")
    return True


def schedules_due_for_reminder(now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(
        ReportSchedule.objects.filter(active=True, next_due_at__lte=now)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=now.astimezone(program_time_zone()).date()))
        .filter(Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lt=F("next_due_at")))
        .values_list("pk", flat=True)
    )


def schedule_claim_reminder(schedule_id: int, *, now: dt.datetime | None = None) -> ReportSchedule | None:
    """Claim one due reminder (conditional UPDATE); None when it was already sent for this due time."""
    now = now or clock.now()
    schedule = ReportSchedule.objects.select_related("instrument", "patient").filter(pk=schedule_id).first()
    if schedule is None or not instrument_on(schedule.instrument, schedule.patient.organization_id):
        # The instrument was switched off for the program: the patient could not answer, so no reminder is
        # sent; the schedule is listed on the CLP's worklist until it is stopped or the licence restored.
        return None
    with transaction.atomic():
        return _claim_reminder(schedule_id, now)


def _claim_reminder(schedule_id: int, now: dt.datetime) -> ReportSchedule | None:
    claimed = ReportSchedule.objects.filter(
        Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lt=F("next_due_at")),
        pk=schedule_id, active=True, next_due_at__lte=now,
    ).update(last_reminder_at=now, reminder_count=F("reminder_count") + 1)
    if not claimed:
        return None
    schedule = ReportSchedule.objects.select_related("patient", "patient__user", "instrument").get(pk=schedule_id)
    audit.log(JOB_ACTOR, AuditAction.UPDATE, category=CATEGORY, resource_type="ReportSchedule",
              resource_id=schedule_id, patient_id=schedule.patient_id, detail="reminder sent", channel="job")
    return schedule




# --- schedules ------------------------------------------------------------------------------------------


@dataclass
class ScheduleData:
    instrument_id: int
    care_plan_label: str
    frequency_days: int = 7
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    proctcae_terms: list[int] = field(default_factory=list)


def schedule_create(*, actor: Actor, patient: Patient, data: ScheduleData, channel: str = "web") -> ReportSchedule:
    """Ask a patient to report on a schedule (staff with a care role; the patient must be visible)."""
    require_care_role(actor)
    q = visible_patient_ids_q(actor)
    if q is None or not Patient.objects.filter(q, pk=patient.pk).exists():
        raise NotFound()
    instrument = instruments.instruments_for_purpose(PURPOSE).filter(pk=data.instrument_id).first()
    errors: dict[str, list[str]] = {}
    if instrument is None:
        errors["instrument"] = ["Choose an instrument."]
    elif not instrument_on(instrument, patient.organization_id):
        errors["instrument"] = ["This instrument is not enabled for the program (licence permission needed)."]
    if not data.care_plan_label.strip():
        errors["care_plan_label"] = ["Name the care plan, e.g. Active chemotherapy."]
    if not 1 <= data.frequency_days <= 90:
        errors["frequency_days"] = ["Between 1 and 90 days."]
    starts = data.starts_on or clock.today()
    if data.ends_on is not None and data.ends_on < starts:
        errors["ends_on"] = ["The schedule cannot end before it starts."]
    terms = sorted(set(data.proctcae_terms))
    if instrument is not None and scoring_of(instrument) == ScoringMethod.PROCTCAE:
        known = set(rules.term_patterns()) | set(
            InstrumentVersion.objects.filter(instrument=instrument, current=True)
            .values_list("items__term", flat=True)
        )
        unknown = [t for t in terms if t not in known]
        if not terms:
            errors["proctcae_terms"] = ["Choose the PRO-CTCAE symptoms for this care plan."]
        elif unknown:
            errors["proctcae_terms"] = [f"Unknown PRO-CTCAE terms: {unknown}."]
    elif terms:
        errors["proctcae_terms"] = ["Symptom choice applies to PRO-CTCAE only."]
    if errors:
        raise ValidationFailed("The schedule is not valid.", field_errors=errors)
    assert instrument is not None
    first_due = dt.datetime.combine(starts, dt.time(9), tzinfo=program_time_zone())
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(
            patient=patient, instrument=instrument, care_plan_label=data.care_plan_label.strip()[:120],
            proctcae_terms=terms, frequency_days=data.frequency_days, starts_on=starts, ends_on=data.ends_on,
            next_due_at=first_due, created_by_id=actor.user_id, created_at=clock.now(),
        )
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="ReportSchedule",
                  resource_id=schedule.pk, patient_id=patient.pk,
                  detail=f"{instrument.code} every {data.frequency_days} days", channel=channel)
    return schedule


def schedule_stop(*, actor: Actor, schedule: ReportSchedule, channel: str = "web") -> ReportSchedule:
    require_care_role(actor)
    q = visible_patient_ids_q(actor)
    if q is None or not Patient.objects.filter(q, pk=schedule.patient_id).exists():
        raise NotFound()
    with transaction.atomic():
        ReportSchedule.objects.filter(pk=schedule.pk).update(active=False, version=F("version") + 1)
        schedule.active = False
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="ReportSchedule",
                  resource_id=schedule.pk, patient_id=schedule.patient_id, detail="stopped", channel=channel)
    return schedule
