"""The navigator's worklist and the CLP's escalations: reads across the program's domains, always scoped
to the patients the actor may see (patients.selectors) and audited per patient shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet

from oncoliaison.accounts.models import User
from oncoliaison.careplans import workload
from oncoliaison.careplans.models import Barrier, BarrierStatus, Task
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.monitoring.models import OPEN_STATUSES as ALERT_OPEN
from oncoliaison.monitoring.models import ActionKind, Alert, AlertAction, ReportSchedule, Severity
from oncoliaison.monitoring.selectors import MonitoringOff, monitoring_off_for
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import CareTeamParticipant, CareTeamStatus, Patient
from oncoliaison.patients.selectors import patient_access_q, patient_queryset_for
from oncoliaison.programs import caseload
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, NavigatorHandoff, ProgramEpisode
from oncoliaison.referrals.models import Referral
from oncoliaison.referrals.selectors import triage_queue_for

CATEGORY = "worklist"
SECTION_LIMIT = 50


def require_worklist_role(actor: Actor) -> None:
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("The worklist is for the clinical staff of a cancer program.")


def caseload_episodes(actor: Actor, navigator_id: int) -> QuerySet[ProgramEpisode]:
    """Open episodes at one of the actor's programs that name ``navigator_id`` as navigator.

    This only narrows (by index); whether each patient may still be seen — a shared patient whose consent
    was revoked may not — is checked on the rows shown (``_keep_visible``)."""
    return ProgramEpisode.objects.filter(
        navigator_id=navigator_id, status__in=OPEN_EPISODE_STATUSES,
        organization_id__in=actor.clinical_organization_ids,
    )


def _patient_of(row: Any) -> int:
    return row.patient.pk if isinstance(row, PatientRow) else int(row.patient_id)


def _keep_visible(actor: Actor, sections: list[list[Any]]) -> None:
    """Drop, in place, rows of patients the actor may not see: one query for every row shown."""
    ids = {_patient_of(row) for rows in sections for row in rows}
    visible = set(patient_queryset_for(actor).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for rows in sections:
        rows[:] = [row for row in rows if _patient_of(row) in visible][:SECTION_LIMIT]


def _open_tasks(actor: Actor) -> QuerySet[Task]:
    q = patient_access_q(actor, "patient")
    if q is None:
        return Task.objects.none()
    return Task.objects.filter(q, status__in=TASK_OPEN)


# What a worklist row shows of its patient (a name and a link); the rest of the record is not read.
_SHOWN = ("id", "organization_id", "given_name", "family_name")
_ROW_PATIENT = tuple(f"patient__{f}" for f in _SHOWN)
_PATIENT_UNSHOWN = tuple(f"patient__{f.name}" for f in Patient._meta.concrete_fields if f.attname not in _SHOWN)
# ... and of each section's rows, what the page shows (fewer columns to read and convert).
_TASK_SHOWN = ("id", "care_plan_id", "patient_id", "description", "due_date", "priority", "status", "owner_id",
               "version", *_ROW_PATIENT)
_ALERT_SHOWN = ("id", "patient_id", "deadline", "severity", "status", "summary", "reasons", "assigned_to_id",
                "version", "report__free_text", *_ROW_PATIENT)
_BARRIER_SHOWN = ("id", "patient_id", "care_plan_id", "description", "kind", "status", "identified_at", "version",
                  *_ROW_PATIENT)

# Sections over-fetch a little so that rows dropped by _keep_visible rarely leave a section short.
_FETCH = SECTION_LIMIT + 10


@dataclass
class PatientRow:
    patient: Patient
    load: caseload.PatientLoad
    score: int
    reasons: list[str]


@dataclass
class Worklist:
    navigator: User
    today: dt.date
    new_referrals: list[Referral] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    overdue_tasks: list[Task] = field(default_factory=list)
    upcoming_tasks: list[Task] = field(default_factory=list)
    barriers: list[Barrier] = field(default_factory=list)
    reports_overdue: list[ReportSchedule] = field(default_factory=list)
    patients: list[PatientRow] = field(default_factory=list)
    escalations: list[Task] = field(default_factory=list)
    escalated_alerts: list[Alert] = field(default_factory=list)
    handed_to_you: list[NavigatorHandoff] = field(default_factory=list)
    monitoring_off: MonitoringOff | None = None
    counts: dict[str, int] = field(default_factory=dict)


def navigators_for(actor: Actor) -> QuerySet[User]:
    """Active navigators of the actor's care organisations (for the 'whose list' and reassign choices)."""
    return User.objects.filter(
        memberships__organization_id__in=actor.clinical_organization_ids, memberships__role=Role.NAVIGATOR,
        memberships__active=True, is_active=True,
    ).distinct().order_by("last_name", "first_name")


def _navigator(actor: Actor, navigator_id: int | None) -> User:
    if actor.user_id is None:
        raise Forbidden("The worklist is for signed-in staff.")
    target = actor.user_id if navigator_id is None else navigator_id
    if target == actor.user_id:
        return User.objects.get(pk=actor.user_id)
    nav = navigators_for(actor).filter(pk=target).first()
    if nav is None:
        raise Forbidden("You can open the worklist of a navigator of your own program only.")
    return nav


def worklist_for(actor: Actor, *, navigator_id: int | None = None, priority: str = "", sort: str = "urgency",
                 channel: str = "web") -> Worklist:
    """Everything open for one navigator (the actor by default), most urgent first."""
    require_worklist_role(actor)
    nav = _navigator(actor, navigator_id)
    today = clock.today()
    now = clock.now()
    wl = Worklist(navigator=nav, today=today)
    # Each section is narrowed by index (owner, caseload) and fetched with its patients; the access rule is
    # then checked once for all rows shown (_keep_visible) rather than as a subquery in every section.
    episodes = caseload_episodes(actor, nav.pk)
    caseload_patients = episodes.values("patient_id").order_by()

    tasks = Task.objects.filter(owner_id=nav.pk, status__in=TASK_OPEN).select_related("patient").only(*_TASK_SHOWN)
    if priority:
        tasks = tasks.filter(priority=priority)
    wl.overdue_tasks = list(tasks.filter(due_date__lt=today).order_by("due_date", "id")[:_FETCH])
    # Dated first, then undated (two index range scans; one OR-ed scan would walk every overdue task).
    wl.upcoming_tasks = list(tasks.filter(due_date__gte=today).order_by("due_date", "id")[:_FETCH])
    if len(wl.upcoming_tasks) < _FETCH:
        wl.upcoming_tasks += tasks.filter(due_date__isnull=True).order_by("id")[:_FETCH - len(wl.upcoming_tasks)]
    wl.alerts = list(
        Alert.objects.filter(status__in=ALERT_OPEN).filter(Q(assigned_to_id=nav.pk) | Q(patient__in=caseload_patients))
        .select_related("patient", "report").only(*_ALERT_SHOWN).order_by("deadline", "id")[:_FETCH]
    )
    # The section's ids first, then its rows with their patients (joining patients before the limit would
    # read one patient row per open barrier of the caseload).
    barrier_ids = list(Barrier.objects.filter(patient__in=caseload_patients).exclude(status=BarrierStatus.RESOLVED)
                       .order_by("identified_at", "id").values_list("pk", flat=True)[:_FETCH])
    wl.barriers = list(Barrier.objects.filter(pk__in=barrier_ids).select_related("patient").only(*_BARRIER_SHOWN)
                       .order_by("identified_at", "id"))
    from oncoliaison.monitoring.selectors import OVERDUE_GRACE

    wl.reports_overdue = list(
        ReportSchedule.objects.filter(active=True, next_due_at__lt=now - OVERDUE_GRACE, patient__in=caseload_patients)
        .select_related("patient", "instrument").defer(*_PATIENT_UNSHOWN).order_by("next_due_at")[:_FETCH]
    )
    wl.patients = _patients_by_urgency(episodes, today, team_patients=care_team_patients(nav.pk))
    wl.handed_to_you = recent_handoffs_to(actor, nav.pk)
    _keep_visible(actor, [wl.overdue_tasks, wl.upcoming_tasks, wl.alerts, wl.barriers, wl.reports_overdue,
                          wl.patients, wl.handed_to_you])
    if sort == "name":
        wl.patients.sort(key=lambda r: (r.patient.family_name, r.patient.given_name))
    if actor.admin_organization_ids() and nav.pk == actor.user_id:
        wl.escalations = escalated_tasks_for(actor)
        wl.monitoring_off = monitoring_off_for(actor)
    if nav.pk == actor.user_id:
        # Whoever an alert was escalated to (the treating physician, or the CLP) reads it here with the
        # note the navigator left for them.
        wl.escalated_alerts = list(
            Alert.objects.filter(status="escalated", escalated_to_id=actor.user_id)
            .filter(patient__in=patient_queryset_for(actor).values("pk"))
            .select_related("patient", "report").only(*_ALERT_SHOWN)
            .prefetch_related(Prefetch("actions", to_attr="escalation_notes", queryset=AlertAction.objects.filter(
                kind__in=[ActionKind.ESCALATED_TO_PHYSICIAN, ActionKind.ESCALATED_AUTOMATICALLY])
                .select_related("by").order_by("at", "id")))
            .order_by("deadline")[:SECTION_LIMIT]
        )
    wl.counts = {
        "alerts": len(wl.alerts), "overdue_tasks": len(wl.overdue_tasks), "upcoming_tasks": len(wl.upcoming_tasks),
        "barriers": len(wl.barriers), "reports_overdue": len(wl.reports_overdue),
        "new_referrals": len(wl.new_referrals), "patients": len(wl.patients), "escalations": len(wl.escalations),
    }
    shown = [t.patient_id for t in wl.overdue_tasks + wl.upcoming_tasks + wl.escalations]
    shown += [a.patient_id for a in wl.alerts + wl.escalated_alerts]
    shown += [b.patient_id for b in wl.barriers] + [s.patient_id for s in wl.reports_overdue]
    shown += [r.patient.pk for r in wl.patients] + [h.patient_id for h in wl.handed_to_you]
    shown += [s.patient_id for s in wl.monitoring_off.schedules] if wl.monitoring_off else []
    with transaction.atomic():  # one commit for the page's audit rows (the queue's and the worklist's)
        if nav.pk == actor.user_id:
            wl.new_referrals = triage_queue_for(actor, channel=channel, limit=10)
            wl.counts["new_referrals"] = len(wl.new_referrals)
        audit.log_patients_read(actor, shown, category=CATEGORY, resource_type="Patient", action="search",
                                channel=channel)
    return wl


def care_team_patients(user_id: int) -> QuerySet[CareTeamParticipant, Any]:
    """The patients on whose active care team ``user_id`` is (a subquery of patient ids; narrows, never grants)."""
    return CareTeamParticipant.objects.filter(user_id=user_id, care_team__status=CareTeamStatus.ACTIVE).values(
        "care_team__patient_id").order_by()


_LOAD_FIELDS = ("patient_id", "load_overdue_tasks", "load_overdue_urgent_tasks", "load_open_barriers")


def _patients_by_urgency(episodes: QuerySet[ProgramEpisode], today: dt.date, *,
                         team_patients: QuerySet[CareTeamParticipant, Any] | None = None,
                         limit: int = _FETCH) -> list[PatientRow]:
    """The navigator's caseload, the most urgent first (caseload.urgency), then patients with nothing open —
    plus the patients of their care teams (``team_patients``) who have an open severe symptom alert, whoever
    navigates them: a severe alert must not wait off the list of a navigator who is on the patient's team.

    Each open episode carries its patient's task and barrier load (careplans.workload; stale or expired
    loads are recomputed first), so the ranking reads the top of one index whatever the caseload's size;
    open alerts, few and changing by the minute, are added live.  Urgency is a sum of parts, so the top
    ``limit`` by stored load plus every patient with an open alert hold the top ``limit`` overall."""
    workload.refresh_stale(episodes, today)
    loads = {row["patient_id"]: row for row in
             episodes.filter(load_score__gt=0).order_by("-load_score", "patient_id").values(*_LOAD_FIELDS)[:limit]}
    worst: dict[int, str] = {}
    alerting = Q(patient__in=episodes.values("patient_id").order_by())
    if team_patients is not None:
        alerting |= Q(patient__in=team_patients, severity=Severity.SEVERE)
    for patient_id, severity in Alert.objects.filter(alerting, status__in=ALERT_OPEN).values_list(
            "patient_id", "severity"):
        if caseload.severity_rank(severity) > caseload.severity_rank(worst.get(patient_id, "")):
            worst[patient_id] = severity
    if missing := worst.keys() - loads.keys():
        loads.update((row["patient_id"], row) for row in episodes.filter(patient_id__in=missing).values(*_LOAD_FIELDS))
        if off_caseload := sorted(missing - loads.keys()):
            # Care-team patients navigated by someone else (or by no one): their few loads counted afresh.
            loads.update((pid, dict(values, patient_id=pid))
                         for pid, values in workload.compute(off_caseload, today).items())
    ranked = []
    for patient_id, values in loads.items():
        load = workload.as_patient_load(values, worst.get(patient_id, ""))
        score, reasons = caseload.urgency(load)
        if score:
            ranked.append((score, patient_id, load, reasons))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    ranked = ranked[:limit]
    # Patients with nothing open follow, so a small caseload is listed whole.
    quiet_room = limit - len(ranked)
    quiet_ids: list[int] = []
    if quiet_room > 0:
        quiet_ids = list(
            Patient.objects.filter(pk__in=episodes.values("patient_id").order_by())
            .exclude(pk__in=[r[1] for r in ranked])
            .order_by("family_name", "id").values_list("pk", flat=True)[:quiet_room]
        )
    patients = Patient.objects.only(*_SHOWN).order_by().in_bulk([r[1] for r in ranked] + quiet_ids)
    rows = [PatientRow(patients[pid], load, score, reasons) for score, pid, load, reasons in ranked if pid in patients]
    rows += [PatientRow(patients[pid], caseload.PatientLoad(), 0, []) for pid in quiet_ids if pid in patients]
    return rows


@dataclass(frozen=True)
class WorkCounts:
    """What waits for one member of staff, for their home page (unread messages: the menu's badge count)."""

    alerts: int
    overdue_tasks: int


def work_counts_for(actor: Actor) -> WorkCounts | None:
    """Open symptom alerts (assigned to the actor or of their caseload) and their overdue open tasks, among the
    patients they may see; ``None`` for whoever has no worklist. Two ``COUNT`` queries (no rows read), so the
    home page stays fast whatever the caseload."""
    if actor.kind != "staff" or not actor.clinical_organization_ids or actor.user_id is None:
        return None
    visible = patient_queryset_for(actor).values("pk")
    caseload_patients = caseload_episodes(actor, actor.user_id).values("patient_id").order_by()
    alerts = (Alert.objects.filter(status__in=ALERT_OPEN).filter(Q(assigned_to_id=actor.user_id) | Q(patient__in=caseload_patients))
              .filter(patient__in=visible).count())
    overdue = Task.objects.filter(owner_id=actor.user_id, status__in=TASK_OPEN, due_date__lt=clock.today(),
                                  patient__in=visible).count()
    return WorkCounts(alerts=alerts, overdue_tasks=overdue)


def escalated_tasks_for(actor: Actor) -> list[Task]:
    """Overdue urgent / asap / stat tasks of the CLP's or administrator's programs (the escalation list)."""
    orgs = actor.admin_organization_ids() & actor.clinical_organization_ids
    if not orgs:
        return []
    return list(
        _open_tasks(actor).filter(priority__in=caseload.ESCALATING_PRIORITIES, due_date__lt=clock.today(),
                                  patient__organization_id__in=orgs)
        .select_related("patient", "owner").order_by("due_date", "id")[:SECTION_LIMIT]
    )


def handoff_episode_ids(actor: Actor, navigator_id: int, patient_ids: list[int]) -> list[int]:
    """The open episodes, at the actor's programs, of the patients ticked on ``navigator_id``'s worklist."""
    return list(caseload_episodes(actor, navigator_id).filter(patient_id__in=patient_ids)
                .order_by("pk").values_list("pk", flat=True))


def recent_handoffs_to(actor: Actor, navigator_id: int, days: int = 14) -> list[NavigatorHandoff]:
    """Patients handed to the navigator in the last ``days`` days, with the notes left for them."""
    since = clock.now() - dt.timedelta(days=days)
    return list(NavigatorHandoff.objects.filter(to_navigator_id=navigator_id, at__gte=since,
                                                episode__in=caseload_episodes(actor, navigator_id))
                .select_related("patient", "from_navigator", "by").order_by("-at", "-id")[:SECTION_LIMIT])


def reassignable_navigators(actor: Actor, organization_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization_id=organization_id, memberships__role=Role.NAVIGATOR, memberships__active=True,
    ).distinct().order_by("last_name", "first_name")


def caseload_summary(actor: Actor, organization_id: int) -> list[dict[str, object]]:
    """Per navigator: open episodes and open tasks (for the reassign page and the dashboard).  Counts of the
    organisation's patients, no patient named: the callers have checked the actor administers it, and the
    program administrator, who opens no patient record, sees the same counts as the CLP."""
    navs = list(reassignable_navigators(actor, organization_id))
    episodes = dict(
        ProgramEpisode.objects.filter(organization_id=organization_id, status__in=OPEN_EPISODE_STATUSES)
        .values_list("navigator_id").annotate(n=Count("id"))
    )
    tasks = dict(
        Task.objects.filter(status__in=TASK_OPEN, patient__organization_id=organization_id).values_list("owner_id")
        .annotate(n=Count("id"))
    )
    return [{"user": n, "episodes": episodes.get(n.pk, 0), "tasks": tasks.get(n.pk, 0)} for n in navs]


__all__ = ["Membership"]
