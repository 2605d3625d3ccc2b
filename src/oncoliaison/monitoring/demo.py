"""Demo symptom data: synthetic weekly reports over the last 8 weeks for about ten patients of the lead
program, with schedules, a few open alerts and an overdue report (called from demo.seed)."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.conf import settings

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock
from oncoliaison.instruments.models import Instrument, InstrumentPermission, PermissionKind
from oncoliaison.organisations.models import Organization, Role
from oncoliaison.patients.models import Patient

from . import rules, services
from .models import (
    ActionKind,
    Alert,
    AlertAction,
    AlertStatus,
    SymptomReport,
)

PROCTCAE_TERMS = [9, 10, 16, 53]  # nausea, vomiting, diarrhea, fatigue (a chemotherapy care plan)


def seed_symptom_monitoring(rng: random.Random, lead: Organization, *, patients: int = 10) -> int:
    """Create the demo reports; returns how many reports were stored."""
    from oncoliaison.accounts.models import User

    navigator = User.objects.filter(memberships__organization=lead, memberships__role=Role.NAVIGATOR).order_by("id").first()
    admin = User.objects.filter(memberships__organization=lead, memberships__role=Role.PROGRAM_ADMIN).first()
    if navigator is None:
        return 0
    staff = actor_for_user(navigator)
    now = clock.now()
    esas = Instrument.objects.get(code="esas-r")
    proctcae = Instrument.objects.get(code="pro-ctcae")
    if not InstrumentPermission.objects.filter(instrument=proctcae, organization=lead).exists():
        InstrumentPermission.objects.create(
            instrument=proctcae, organization=lead, kind=PermissionKind.GRANT,
            granted_by="National Cancer Institute (demo record)", reference="Demo data: not a real permission",
            granted_on=now.date() - dt.timedelta(days=90), note="Demo program only.", recorded_by=admin,
            recorded_at=now)
    chosen = list(Patient.objects.filter(organization=lead, care_teams__participants__user=navigator)
                  .distinct().order_by("id")[:patients])
    tz = ZoneInfo(settings.TIME_ZONE)
    stored = 0
    for n, patient in enumerate(chosen):
        use_pro = n % 3 == 2
        instrument = proctcae if use_pro else esas
        overdue = n == 4
        weeks = list(range(8, 2 if overdue else 0, -1))
        start = (now - dt.timedelta(weeks=8)).astimezone(tz).date()
        services.schedule_create(actor=staff, patient=patient, data=services.ScheduleData(
            instrument.pk, "Active chemotherapy" if n % 2 == 0 else "Radiation therapy", 7, start,
            proctcae_terms=PROCTCAE_TERMS if use_pro else []), channel="cli")
        base = [rng.randint(0, 4) for _ in range(9)]
        worsening = n in (1, 5, 6)  # these worsen in the last week: open alerts
        for w in weeks:
            authored = now - dt.timedelta(weeks=w - 1, hours=rng.randint(1, 30))
            drift = 3 if worsening and w == 1 else 0
            answers: dict[str, int | str]
            if use_pro:
                answers = _proctcae_answers(rng, severe=worsening and w == 1)
            else:
                values = [max(0, min(10, b + rng.randint(0, 1) + drift)) for b in base]
                answers = {f"esas-{i}": v for i, v in enumerate(values, start=1)}
                if worsening and w == 1 and n == 1:
                    answers["anything-else"] = "Fever of 38.4 last night after chemo"
            result = services.report_submit(actor=staff, patient=patient, instrument=instrument, answers=answers,
                                            source="phone", authored_at=authored, channel="cli")
            stored += 1
            _backdate(result.report, result.alert, authored, navigator.pk, close=w > 1, tz=tz)
    return stored


def _proctcae_answers(rng: random.Random, *, severe: bool) -> dict[str, int | str]:
    if severe:
        return {"PROCTCAE_9A_SCL": 3, "PROCTCAE_9B_SCL": 3, "PROCTCAE_10A_SCL": 2, "PROCTCAE_10B_SCL": 2,
                "PROCTCAE_16A_SCL": 1, "PROCTCAE_53A_SCL": 2, "PROCTCAE_53B_SCL": 2}
    f = rng.randint(0, 2)
    return {"PROCTCAE_9A_SCL": f, **({"PROCTCAE_9B_SCL": rng.randint(1, 2)} if f else {}),
            "PROCTCAE_10A_SCL": 0, "PROCTCAE_16A_SCL": rng.randint(0, 1),
            "PROCTCAE_53A_SCL": rng.randint(1, 2), "PROCTCAE_53B_SCL": rng.randint(0, 1)}


def _backdate(report: SymptomReport, alert: Alert | None, authored: dt.datetime, navigator_id: int, *,
              close: bool, tz: ZoneInfo) -> None:
    """Demo history: a past report was received when it was made; its alert was handled back then."""
    SymptomReport.objects.filter(pk=report.pk).update(received_at=authored)
    if alert is None:
        return
    deadline = rules.response_deadline(authored, alert.severity, rules.DeadlinePolicy(), tz)
    if not close:
        Alert.objects.filter(pk=alert.pk).update(created_at=authored, deadline=max(deadline, clock.now()
                                                                                  + dt.timedelta(minutes=45)))
        return
    ack = authored + dt.timedelta(minutes=25)
    Alert.objects.filter(pk=alert.pk).update(
        created_at=authored, deadline=deadline, status=AlertStatus.RESOLVED, acknowledged_at=ack,
        acknowledged_by_id=navigator_id, resolved_at=ack + dt.timedelta(minutes=20), resolved_by_id=navigator_id,
    )
    AlertAction.objects.bulk_create([
        AlertAction(alert_id=alert.pk, kind=ActionKind.ACKNOWLEDGED, by_id=navigator_id, at=ack),
        AlertAction(alert_id=alert.pk, kind=ActionKind.CALLED_PATIENT, by_id=navigator_id,
                    at=ack + dt.timedelta(minutes=10), note="Reviewed symptoms with the patient."),
        AlertAction(alert_id=alert.pk, kind=ActionKind.ADVISED, by_id=navigator_id, at=ack + dt.timedelta(minutes=15),
                    note="Self-care advice given; call back if worse."),
        AlertAction(alert_id=alert.pk, kind=ActionKind.RESOLVED, by_id=navigator_id, at=ack + dt.timedelta(minutes=20)),
    ])
