"""Reads of symptom monitoring, always given the actor.  A patient the actor may not see is NotFound."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import translation

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import Instrument, InstrumentItem, InstrumentPermission, InstrumentVersion
from oncoliaison.instruments.selectors import GrantRecord
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import visible_patient_ids_q

from . import rules
from .models import (
    OPEN_STATUSES,
    ActionKind,
    Alert,
    AlertAction,
    AlertRule,
    ReporterKind,
    ReportSchedule,
    ScoringMethod,
    SymptomReport,
    SymptomScore,
)
from .services import CATEGORY, PURPOSE, instrument_on

OVERDUE_GRACE = dt.timedelta(hours=getattr(settings, "SYMPTOM_REPORT_GRACE_HOURS", 24))


def _visible_patients(actor: Actor) -> QuerySet[Patient] | None:
    q = visible_patient_ids_q(actor)
    return None if q is None else Patient.objects.filter(q)


def require_care_role(actor: Actor) -> None:
    """The worklist and phone entry are for staff with a care role at a care-delivering organisation."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("The symptom worklist needs a care role.")


def alert_queryset_for(actor: Actor) -> QuerySet[Alert]:
    patients = _visible_patients(actor)
    if patients is None or actor.kind in {"patient", "caregiver"}:
        return Alert.objects.none()
    if actor.is_system and not actor.allows("Flag", "r"):
        return Alert.objects.none()
    return Alert.objects.filter(patient__in=patients.values("pk"))


def alert_worklist_for(actor: Actor, *, mine_only: bool = False, include_resolved: bool = False,
                       limit: int = 200, channel: str = "web") -> list[Alert]:
    """Open alerts of the patients the actor may see, soonest deadline first (audited per patient shown)."""
    require_care_role(actor)
    qs = alert_queryset_for(actor)
    if not include_resolved:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if mine_only:
        qs = qs.filter(assigned_to_id=actor.user_id)
    alerts = list(
        qs.select_related("patient", "assigned_to", "escalated_to", "acknowledged_by", "report__version__instrument")
        .prefetch_related(Prefetch("actions", queryset=AlertAction.objects.select_related("by")))
        .order_by("deadline", "id")[:limit]
    )
    audit.log_patients_read(actor, [a.patient_id for a in alerts], category=CATEGORY, resource_type="Flag",
                            channel=channel)
    return alerts


def alert_get_for(actor: Actor, alert_id: int | str) -> Alert:
    from oncoliaison.core.access import get_visible_or_404

    return get_visible_or_404(
        alert_queryset_for(actor).select_related("patient", "assigned_to", "escalated_to", "acknowledged_by"),
        alert_id,
    )


def alert_detail_for(actor: Actor, alert_id: int | str, *, channel: str = "web") -> Alert:
    """One alert with its report, actions and the people named on it (the read is audited)."""
    from oncoliaison.core.access import get_visible_or_404

    alert = get_visible_or_404(
        alert_queryset_for(actor)
        .select_related("patient", "assigned_to", "escalated_to", "acknowledged_by", "report__version__instrument")
        .prefetch_related(Prefetch("actions", queryset=AlertAction.objects.select_related("by"))),
        alert_id,
    )
    audit.log_patients_read(actor, [alert.patient_id], category=CATEGORY, resource_type="Flag", channel=channel)
    return alert


# What the patient (or a caregiver they granted access) is told about the care team's response to an alert:
# the actions that concern them, never the staff's notes or internal steps.
PATIENT_FACING_ACTIONS = (
    ActionKind.CALLED_PATIENT,
    ActionKind.ADVISED,
    ActionKind.ESCALATED_TO_PHYSICIAN,
    ActionKind.SENT_TO_EMERGENCY,
)


@dataclass(frozen=True)
class AlertResponse:
    """One of the patient's symptom alerts as the portal shows it."""

    reported_at: dt.datetime
    severity: str
    deadline: dt.datetime
    open: bool
    actions: tuple[tuple[dt.datetime, str], ...]  # (when, ActionKind), patient-facing only, oldest first


def alert_responses_for_patient(actor: Actor, patient: Patient, *, since: dt.datetime | None = None,
                                limit: int = 5, channel: str = "web") -> list[AlertResponse]:
    """The care team's responses to the patient's recent symptom alerts, newest first.

    For the portal: the patient themself or a caregiver with proxy access (``patient`` from the portal's
    access guard); anyone who may not see the patient gets NotFound.  Only patient-facing actions are
    disclosed (a call, self-care advice, referral to a physician or to emergency) — not staff notes, names
    or the alert's clinical summary.  The read is audited."""
    visible = _visible_patients(actor)
    if visible is None or not visible.filter(pk=patient.pk).exists():
        from oncoliaison.core.errors import NotFound

        raise NotFound()
    qs = Alert.objects.filter(patient=patient)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    alerts = list(
        qs.prefetch_related(Prefetch("actions", queryset=AlertAction.objects.filter(
            kind__in=PATIENT_FACING_ACTIONS).order_by("at", "id")))
        .order_by("-created_at", "-id")[:limit]
    )
    if alerts:
        audit.log_patients_read(actor, [patient.pk], category=CATEGORY, resource_type="Flag", channel=channel)
    return [
        AlertResponse(a.created_at, a.severity, a.deadline, a.status in OPEN_STATUSES,
                      tuple((act.at, act.kind) for act in a.actions.all()))
        for a in alerts
    ]


def overdue_schedules_for(actor: Actor, now: dt.datetime | None = None, limit: int = 200) -> list[ReportSchedule]:
    """Active schedules whose report is overdue (past due by more than the grace period)."""
    require_care_role(actor)
    patients = _visible_patients(actor)
    if patients is None:
        return []
    now = now or clock.now()
    rows = list(
        ReportSchedule.objects.filter(active=True, next_due_at__lt=now - OVERDUE_GRACE,
                                      patient__in=patients.values("pk"))
        .select_related("patient", "instrument").order_by("next_due_at")[:limit]
    )
    audit.log_patients_read(actor, [s.patient_id for s in rows], category=CATEGORY, resource_type="ReportSchedule",
                            channel="web")
    return rows


def report_queryset_for(actor: Actor) -> QuerySet[SymptomReport]:
    patients = _visible_patients(actor)
    if patients is None:
        return SymptomReport.objects.none()
    if actor.is_system and not actor.allows("QuestionnaireResponse", "r"):
        return SymptomReport.objects.none()
    return SymptomReport.objects.filter(patient__in=patients.values("pk"))


def score_queryset_for(actor: Actor) -> QuerySet[SymptomScore]:
    patients = _visible_patients(actor)
    if patients is None:
        return SymptomScore.objects.none()
    if actor.is_system and not actor.allows("Observation", "r"):
        return SymptomScore.objects.none()
    return SymptomScore.objects.filter(patient__in=patients.values("pk"))


@dataclass(frozen=True)
class ReportOutcome:
    """A stored report and what the person was told on sending it (re-derived from its stored scores and
    alert, so the confirmation page can be reloaded without sending anything again)."""

    report: SymptomReport
    alert: Alert | None
    guidance: rules.Guidance


def report_outcome_for(actor: Actor, patient: Patient, report_id: int | str, *, channel: str = "web") -> ReportOutcome:
    """One report of ``patient`` (from an access guard) with its guidance; NotFound unless visible."""
    from oncoliaison.core.errors import NotFound

    try:
        pk = int(report_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    report = (
        report_queryset_for(actor).filter(pk=pk, patient=patient).select_related("alert", "version__instrument")
        .prefetch_related("scores").first()
    )
    if report is None:
        raise NotFound()
    alert: Alert | None = getattr(report, "alert", None)  # reverse one-to-one: absent raises AttributeError
    results = [
        rules.SymptomResult(kind=s.kind, code=s.code, label=s.label, value=s.value, max_value=s.max_value,
                            band=s.band, note=s.note)
        for s in report.scores.all()
    ]
    reasons = [rules.Reason(**r) for r in (alert.reasons if alert is not None else [])]
    audit.log_patients_read(actor, [patient.pk], category=CATEGORY, resource_type="QuestionnaireResponse",
                            channel=channel)
    # In the language of the page asking (the portal's, for the patient), as on sending.
    language = translation.get_language() or settings.LANGUAGE_CODE
    return ReportOutcome(report, alert, rules.guidance_for(results, reasons, alert.deadline if alert else None,
                                                           language,
                                                           proxy=report.reporter_kind == ReporterKind.PROXY))


@dataclass
class HistoryPoint:
    report: SymptomReport
    scores: dict[str, SymptomScore]


def symptom_history_for(actor: Actor, patient: Patient, *, instrument: Instrument | None = None,
                        since: dt.datetime | None = None, limit: int = 100, channel: str = "web") -> list[SymptomReport]:
    """A patient's reports, newest first, with scores, answers and alert prefetched.

    ``patient`` must come from ``patients.selectors.access_patient`` (which audits the read and applies the
    access rule); this selector re-checks visibility and audits the symptom data disclosed."""
    visible = _visible_patients(actor)
    if visible is None or not visible.filter(pk=patient.pk).exists():
        from oncoliaison.core.errors import NotFound

        raise NotFound()
    qs = SymptomReport.objects.filter(patient=patient)
    if instrument is not None:
        qs = qs.filter(version__instrument=instrument)
    if since is not None:
        qs = qs.filter(authored_at__gte=since)
    reports = list(
        qs.select_related("version__instrument", "reported_by", "alert")
        .prefetch_related("scores", "answers").order_by("-authored_at", "-id")[:limit]
    )
    if reports:  # a list discloses its rows, as every door audits it (patients.selectors, the door contract)
        audit.log_patients_read(actor, [patient.pk], category=CATEGORY, resource_type="QuestionnaireResponse",
                                action=AuditAction.SEARCH, channel=channel)
    return reports


def schedules_for_patient(actor: Actor, patient: Patient) -> list[ReportSchedule]:
    visible = _visible_patients(actor)
    if visible is None or not visible.filter(pk=patient.pk).exists():
        return []
    return list(ReportSchedule.objects.filter(patient=patient).select_related("instrument").order_by("-active", "id"))


@dataclass
class InstrumentStatus:
    instrument: Instrument
    enabled: bool
    permissions: list[GrantRecord]  # every grant recorded, oldest first, each with what ended it


def instruments_for(actor: Actor, organization_id: int) -> list[InstrumentStatus]:
    """Every instrument with whether it is on for the program, and the permissions recorded."""
    grants = instruments.grants_of(organization_id)
    return [
        InstrumentStatus(i, instrument_on(i, organization_id), grants.get(i.pk, []))
        for i in symptom_instruments()
    ]


def symptom_instruments() -> QuerySet[Instrument]:
    return instruments.instruments_for_purpose(PURPOSE).order_by("code")


def instruments_enabled_for_patient(patient: Patient) -> list[Instrument]:
    return [i for i in symptom_instruments() if instrument_on(i, patient.organization_id)]


def form_items(instrument: Instrument, proctcae_terms: list[int] | None = None) -> list[InstrumentItem]:
    """The items to ask, in order: every item of the current version, or for PRO-CTCAE the chosen terms'
    items (with the free-text item)."""
    version = current_version(instrument)
    items = list(version.items.order_by("order"))
    if version.scoring == ScoringMethod.PROCTCAE:
        chosen = set(proctcae_terms or [])
        items = [i for i in items if i.term in chosen or i.kind == "free_text"]
    return items


def instrument_languages(instrument: Instrument) -> tuple[str, ...]:
    """The languages the instrument's current version is carried in here: each one the publisher's official
    text (never a translation of our own).  An instrument loaded before languages were recorded is English."""
    return tuple(current_version(instrument).definition.get("languages") or ("en",))


def language_versions_missing(patient: Patient, instruments: list[Instrument]) -> list[Instrument]:
    """The instruments that have no version in the patient's preferred language (for staff to see before
    asking a patient to report, and to arrange an interpreter or a call instead)."""
    language = (patient.preferred_language or "en").split("-")[0]
    return [i for i in instruments if language not in instrument_languages(i)]


def current_version(instrument: Instrument) -> InstrumentVersion:
    version = instruments.current_version(instrument)
    if version is None:
        raise InstrumentVersion.DoesNotExist(f"{instrument.code} has no current version")
    return version


@dataclass(frozen=True)
class MonitoringOff:
    """What is switched off in the CLP's programs: schedules that cannot be answered (their instrument is off
    for the program) and alert rules switched off, with who did it and why."""

    schedules: list[ReportSchedule]
    rules: list[AlertRule]


def monitoring_off_for(actor: Actor, limit: int = 50) -> MonitoringOff:
    """For the CLP's (or a program administrator's) worklist: the patients whose reporting schedule uses an
    instrument that is off for the program — they still see a report as due, but neither they nor staff by
    phone can enter it — and the alert rules that are off.  The caller audits the patients shown."""
    orgs = actor.admin_organization_ids() & actor.clinical_organization_ids
    if not orgs:
        return MonitoringOff([], [])
    gated = list(symptom_instruments().filter(requires_permission=True))
    off = Q(pk__in=[])
    for org in orgs:
        ids = [i.pk for i in gated if not instrument_on(i, org)]
        if ids:
            off |= Q(patient__organization_id=org, instrument_id__in=ids)
    visible = _visible_patients(actor)
    schedules: list[ReportSchedule] = []
    if visible is not None:
        schedules = list(
            ReportSchedule.objects.filter(off, active=True, patient__in=visible.values("pk"))
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=clock.today()))
            .select_related("patient", "instrument").order_by("next_due_at", "pk")[:limit])
    rules = list(AlertRule.objects.filter(organization_id__in=orgs, enabled=False).select_related("disabled_by")
                 .order_by("kind"))
    return MonitoringOff(schedules, rules)


def schedules_affected_count(permission: InstrumentPermission) -> int:
    """How many active schedules of the permission's organisation disabling it would leave unanswerable (no
    patient named: for the confirmation, whoever may see the patients)."""
    from .services import other_permission_keeps_on, schedules_monitored_by

    if (not instruments.grant_record(permission).standing or not permission.instrument.requires_permission
            or other_permission_keeps_on(permission)):
        return 0
    return schedules_monitored_by(permission.organization_id, permission.instrument_id).count()


def schedules_affected_by_disabling(actor: Actor, permission: InstrumentPermission,
                                    limit: int = 200) -> list[ReportSchedule]:
    """The active schedules that disabling ``permission`` would leave unanswerable (none when another
    permission keeps the instrument on), of patients the actor may see; the read is audited."""
    from .services import other_permission_keeps_on, schedules_monitored_by

    if not instruments.grant_record(permission).standing or other_permission_keeps_on(permission):
        return []
    visible = _visible_patients(actor)
    if visible is None:
        return []
    rows = list(schedules_monitored_by(permission.organization_id, permission.instrument_id)
                .filter(patient__in=visible.values("pk")).select_related("patient").order_by("next_due_at")[:limit])
    audit.log_patients_read(actor, [s.patient_id for s in rows], category=CATEGORY, resource_type="ReportSchedule",
                            channel="web")
    return rows
