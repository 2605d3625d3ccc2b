"""Every write to care plans, goals, interventions, tasks, barriers and (in ``directory``) the resource
directory.

One transaction each, audited inside it.  Objects passed in must come from the actor-scoped selectors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from oncoliaison.assessments.models import Assessment, AssessmentStatus, SuggestionStatus
from oncoliaison.assessments.rules import NEEDS, SERVICES
from oncoliaison.assessments.selectors import assessment_outcome
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import Patient

from .. import rules, workload
from ..models import (
    ActivityStatus,
    Barrier,
    BarrierKind,
    BarrierStatus,
    CarePlan,
    CarePlanStatus,
    Goal,
    GoalStatus,
    Intervention,
    PlanResource,
    Resource,
    Task,
    TaskEvent,
    TaskPriority,
    TaskStatus,
)
from ..selectors import CATEGORY, assignable_staff_for, match_for_patient
from .directory import ResourceData, resource_create, resource_update

__all__ = ["ResourceData", "resource_create", "resource_update"]  # the directory's writes, one entry for callers

CLOSED_PLANS = frozenset({CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED, CarePlanStatus.ENTERED_IN_ERROR})


def _require_writer(actor: Actor, resource_type: str, letter: str) -> None:
    if actor.kind in {"patient", "caregiver"}:
        raise Forbidden("Only the care team can change care plans.")
    if actor.is_system and not actor.allows(resource_type, letter):
        raise Forbidden(f"Token scope does not allow this on {resource_type}.")
    if not actor.clinical_organization_ids:
        raise Forbidden("Changing care plans needs a care role.")


def _require_open(plan: CarePlan) -> None:
    if plan.status in CLOSED_PLANS:
        raise Conflict(f"This care plan is {plan.get_status_display().lower()}; it can no longer be changed.")


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"Someone else changed this in the meantime (version {current}, yours {expected}). Reload and try again."
        )


def _plan_org(actor: Actor, patient: Patient) -> int:
    if actor.is_system and actor.client_organization_id:
        return actor.client_organization_id
    orgs = actor.clinical_organization_ids
    return patient.organization_id if patient.organization_id in orgs else min(orgs)


def _log(actor: Actor, action: str, resource_type: str, pk: int, patient_id: int, detail: str, channel: str) -> None:
    audit.log(actor, action, category=CATEGORY, resource_type=resource_type, resource_id=pk, patient_id=patient_id,
              detail=detail, channel=channel)


# --- generation -------------------------------------------------------------------------------------------


def care_plan_generate(
    *, actor: Actor, patient: Patient, assessment: Assessment | None = None, title: str = "", channel: str = "web"
) -> CarePlan:
    """Draft a care plan from an assessment by the rules in careplans.rules (problem → goal → interventions →
    resources, plus barriers), for the navigator to edit with the patient.  ``patient`` comes from access_patient.

    Accepted referral suggestions are marked on their interventions; rejected ones are left out.  A barrier of a
    kind already open for the patient is not opened twice.  Without an assessment the plan starts empty (apart
    from an interpreter need).
    """
    _require_writer(actor, "CarePlan", "c")
    findings: list[tuple[str, str]] = []
    accepted: dict[str, list[str]] = {}
    rejected: list[str] = []
    notes: list[str] = []
    if assessment is not None:
        if assessment.patient_id != patient.pk:
            raise ValidationFailed("The assessment belongs to another patient.")
        if assessment.status not in (AssessmentStatus.COMPLETED, AssessmentStatus.AMENDED):
            raise ValidationFailed("Only a completed assessment can seed a care plan.")
        outcome = assessment_outcome(assessment)
        findings = [(f.need, f.label) for f in outcome.findings]
        for s in assessment.suggestions.all():
            if s.status == SuggestionStatus.ACCEPTED:
                accepted[s.service] = list(s.needs)
            elif s.status == SuggestionStatus.REJECTED:
                rejected.append(s.service)
        notes.append(f"Generated from assessment #{assessment.pk} "
                     f"({assessment.instrument_version.instrument.title}, {assessment.authored_at:%Y-%m-%d}).")
        notes += list(outcome.summary)
        if any(s.status == SuggestionStatus.PROPOSED for s in assessment.suggestions.all()):
            notes.append("Some referral suggestions were still undecided when the plan was generated.")
    today = clock.today()
    needs = rules.collect_needs(findings, accepted, rejected, interpreter_needed=patient.interpreter_needed)
    draft = rules.generate_plan(needs, today=today, rejected_services=rejected)
    notes += list(draft.notes)
    open_kinds = set(
        Barrier.objects.filter(patient=patient).exclude(status=BarrierStatus.RESOLVED).values_list("kind", flat=True)
    )
    with transaction.atomic():
        plan = CarePlan.objects.create(
            patient=patient, organization_id=_plan_org(actor, patient), status=CarePlanStatus.DRAFT,
            title=(title.strip() or "Cancer care coordination plan")[:200], period_start=today,
            source_assessment=assessment, generation_notes=notes, created_by_id=actor.user_id,
        )
        goals_by_need: dict[str, Goal] = {}
        for i, g in enumerate(draft.goals):
            goal = Goal.objects.create(care_plan=plan, description=g.description, need=g.need,
                                       target_date=g.target_date, reasons=list(g.reasons), position=i)
            goals_by_need[g.need] = goal
            first: Intervention | None = None
            for j, iv in enumerate(g.interventions):
                intervention = Intervention.objects.create(
                    care_plan=plan, goal=goal, description=iv.description, service=iv.service,
                    reasons=list(iv.reasons), position=i * 10 + j,
                    status=ActivityStatus.SCHEDULED if iv.service in accepted else ActivityStatus.NOT_STARTED,
                )
                first = first or intervention
            task = Task.objects.create(
                care_plan=plan, patient=patient, goal=goal, intervention=first, description=g.task[:300],
                owner_id=actor.user_id, due_date=g.task_due, priority=g.task_priority, created_by_id=actor.user_id,
            )
            TaskEvent.objects.create(task=task, to_status=task.status, owner_id=task.owner_id, by_id=actor.user_id,
                                     at=clock.now(), note="Created with the care plan")
        for b in draft.barriers:
            if b.kind in open_kinds:
                notes.append(f"Barrier '{BarrierKind(b.kind).label}' is already open for the patient; not repeated.")
                continue
            Barrier.objects.create(patient=patient, care_plan=plan, kind=b.kind, description=b.description,
                                   identified_at=today, reasons=list(b.reasons), created_by_id=actor.user_id)
        for rank, rec in enumerate(match_for_patient(
            patient, Resource.objects.filter(organization_id=patient.organization_id), limit=8,
        )):
            linked_goal = next((goals_by_need[n] for n in rec.needs if n in goals_by_need), None)
            PlanResource.objects.create(care_plan=plan, resource=rec.resource, goal=linked_goal, rank=rank,
                                        reasons=list(rec.reasons))
        plan.generation_notes = notes
        plan.save(update_fields=["generation_notes"])
        workload.mark_stale([patient.pk])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.CREATE, "CarePlan", plan.pk, patient.pk,
             f"generated: {len(draft.goals)} goals, {len(draft.barriers)} barriers", channel)
    return plan


def care_plan_open_or_draft(*, actor: Actor, patient: Patient, channel: str = "web") -> CarePlan:
    """The patient's open care plan (the latest begun), or a new empty draft when there is none — where work
    that arises outside the plan (a board's recommendation, an adherence follow-up) becomes a task."""
    plan = (CarePlan.objects.filter(patient_id=patient.pk).exclude(status__in=CLOSED_PLANS)
            .order_by("-period_start", "-pk").first())
    return plan or care_plan_generate(actor=actor, patient=patient, title="Cancer care coordination plan",
                                      channel=channel)


# --- plan and goals ---------------------------------------------------------------------------------------


def care_plan_set_status(*, actor: Actor, plan: CarePlan, status: str, expected_version: int | None = None,
                         channel: str = "web") -> CarePlan:
    _require_writer(actor, "CarePlan", "u")
    if status not in CarePlanStatus.values:
        raise ValidationFailed("Unknown care-plan status.", field_errors={"status": ["Choose a valid status."]})
    with transaction.atomic():
        locked = CarePlan.objects.select_for_update().get(pk=plan.pk)
        _check_version(locked.version, expected_version)
        if not rules.can_transition(rules.CARE_PLAN_TRANSITIONS, locked.status, status):
            raise Conflict(f"A {locked.get_status_display().lower()} plan cannot become "
                           f"{CarePlanStatus(status).label.lower()}.")
        locked.status = status
        if status == CarePlanStatus.ACTIVE:
            # Activating the plan means the patient agreed to its proposed goals.
            locked.goals.filter(status=GoalStatus.PROPOSED).update(status=GoalStatus.ACTIVE)
        if status in (CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED) and locked.period_end is None:
            locked.period_end = max(clock.today(), locked.period_start)
        locked.version += 1
        locked.save()
        _log(actor, AuditAction.UPDATE, "CarePlan", locked.pk, locked.patient_id, f"status {status}", channel)
    return locked


@dataclass
class GoalData:
    description: str
    need: str = ""
    target_date: dt.date | None = None


def goal_add(*, actor: Actor, plan: CarePlan, data: GoalData, channel: str = "web") -> Goal:
    _require_writer(actor, "Goal", "c")
    _require_open(plan)
    errors: dict[str, list[str]] = {}
    if not data.description.strip():
        errors["description"] = ["Describe the goal."]
    if data.need and data.need not in NEEDS:
        errors["need"] = ["Choose a need from the list."]
    if data.target_date and data.target_date < plan.period_start:
        errors["target_date"] = ["The target date is before the plan starts."]
    if errors:
        raise ValidationFailed("The goal is not valid.", field_errors=errors)
    with transaction.atomic():
        position = (plan.goals.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        goal = Goal.objects.create(care_plan=plan, description=data.description.strip()[:300], need=data.need,
                                   target_date=data.target_date, status=GoalStatus.ACTIVE, position=position,
                                   reasons=["Added by the navigator."])
        _log(actor, AuditAction.CREATE, "Goal", goal.pk, plan.patient_id, "added", channel)
    return goal


def goal_set_status(*, actor: Actor, goal: Goal, status: str, channel: str = "web") -> Goal:
    _require_writer(actor, "Goal", "u")
    _require_open(goal.care_plan)
    with transaction.atomic():
        locked = Goal.objects.select_for_update().get(pk=goal.pk)
        if not rules.can_transition(rules.GOAL_TRANSITIONS, locked.status, status):
            raise Conflict(f"A {locked.get_status_display().lower()} goal cannot move to '{status}'.")
        locked.status = status
        locked.save(update_fields=["status"])
        _log(actor, AuditAction.UPDATE, "Goal", locked.pk, goal.care_plan.patient_id, f"status {status}", channel)
    return locked


def intervention_add(*, actor: Actor, plan: CarePlan, description: str, goal: Goal | None = None, service: str = "",
                     channel: str = "web") -> Intervention:
    _require_writer(actor, "CarePlan", "u")
    _require_open(plan)
    if not description.strip():
        raise ValidationFailed("Describe the intervention.", field_errors={"description": ["Required."]})
    if service and service not in SERVICES:
        raise ValidationFailed("Unknown service.", field_errors={"service": ["Choose a service from the list."]})
    if goal is not None and goal.care_plan_id != plan.pk:
        raise ValidationFailed("The goal belongs to another plan.", field_errors={"goal": ["Choose a goal of this plan."]})
    with transaction.atomic():
        iv = Intervention.objects.create(care_plan=plan, goal=goal, description=description.strip()[:300],
                                         service=service, reasons=["Added by the navigator."],
                                         position=plan.interventions.count() * 10 + 5)
        _log(actor, AuditAction.UPDATE, "CarePlan", plan.pk, plan.patient_id, "intervention added", channel)
    return iv


def intervention_set_status(*, actor: Actor, intervention: Intervention, status: str, channel: str = "web") -> Intervention:
    _require_writer(actor, "CarePlan", "u")
    _require_open(intervention.care_plan)
    if status not in ActivityStatus.values:
        raise ValidationFailed("Unknown status.", field_errors={"status": ["Choose a valid status."]})
    with transaction.atomic():
        Intervention.objects.filter(pk=intervention.pk).update(status=status)
        intervention.status = status
        _log(actor, AuditAction.UPDATE, "CarePlan", intervention.care_plan_id, intervention.care_plan.patient_id,
             f"intervention {intervention.pk} {status}", channel)
    return intervention


# --- tasks ----------------------------------------------------------------------------------------------------


@dataclass
class TaskData:
    description: str
    owner_id: int | None
    due_date: dt.date | None
    priority: str = TaskPriority.ROUTINE
    goal_id: int | None = None


def _validate_owner(actor: Actor, patient: Patient, owner_id: int | None) -> None:
    if owner_id is None:
        return
    if not assignable_staff_for(actor, patient).filter(pk=owner_id).exists():
        raise ValidationFailed("The task owner is not valid.",
                               field_errors={"owner": ["Choose a staff member of the patient's or your organisation."]})


def task_create(*, actor: Actor, plan: CarePlan, data: TaskData, channel: str = "web") -> Task:
    _require_writer(actor, "Task", "c")
    _require_open(plan)
    errors: dict[str, list[str]] = {}
    if not data.description.strip():
        errors["description"] = ["Describe the task."]
    if data.priority not in TaskPriority.values:
        errors["priority"] = [f"Priority must be one of: {', '.join(TaskPriority.labels)}."]
    if data.due_date and data.due_date < plan.period_start:
        errors["due_date"] = ["The due date is before the plan starts."]
    if data.goal_id is not None and not plan.goals.filter(pk=data.goal_id).exists():
        errors["goal"] = ["Choose a goal of this plan."]
    if errors:
        raise ValidationFailed("The task is not valid.", field_errors=errors)
    _validate_owner(actor, plan.patient, data.owner_id)
    with transaction.atomic():
        task = Task.objects.create(care_plan=plan, patient_id=plan.patient_id, goal_id=data.goal_id,
                                   description=data.description.strip()[:300], owner_id=data.owner_id,
                                   due_date=data.due_date, priority=data.priority, created_by_id=actor.user_id)
        TaskEvent.objects.create(task=task, to_status=task.status, owner_id=task.owner_id, by_id=actor.user_id,
                                 at=clock.now(), note="Created")
        workload.mark_stale([plan.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.CREATE, "Task", task.pk, plan.patient_id, f"priority {data.priority}", channel)
    return task


def task_assign(*, actor: Actor, task: Task, owner_id: int | None, note: str = "",
                expected_version: int | None = None, channel: str = "web") -> Task:
    """Give an open task to another staff member (reassign)."""
    _require_writer(actor, "Task", "u")
    _require_open(task.care_plan)
    _validate_owner(actor, task.care_plan.patient, owner_id)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        _check_version(locked.version, expected_version)
        if locked.status not in rules.TASK_OPEN:
            raise Conflict(f"A {locked.get_status_display().lower()} task cannot be reassigned.")
        if locked.owner_id == owner_id:
            return locked
        locked.owner_id = owner_id
        locked.version += 1
        locked.save()
        TaskEvent.objects.create(task=locked, from_status=locked.status, to_status=locked.status, owner_id=owner_id,
                                 by_id=actor.user_id, at=clock.now(), note=(note.strip() or "Reassigned")[:500])
        workload.mark_stale([locked.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.UPDATE, "Task", locked.pk, locked.patient_id, f"owner {owner_id}", channel)
    return locked


def task_transition(*, actor: Actor, task: Task, status: str, note: str = "", expected_version: int | None = None,
                    channel: str = "web") -> Task:
    """Move a task along TASK_TRANSITIONS; completing it stamps completed_at."""
    _require_writer(actor, "Task", "u")
    _require_open(task.care_plan)
    if status not in TaskStatus.values:
        raise ValidationFailed("Unknown task status.", field_errors={"status": ["Choose a valid status."]})
    if status == TaskStatus.CANCELLED and not note.strip():
        raise ValidationFailed("Say why the task is cancelled.", field_errors={"note": ["A reason is required."]})
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        _check_version(locked.version, expected_version)
        if not rules.can_transition(rules.TASK_TRANSITIONS, locked.status, status):
            raise Conflict(f"A task that is {locked.get_status_display().lower()} cannot become "
                           f"{TaskStatus(status).label.lower()}.")
        previous = locked.status
        locked.status = status
        locked.completed_at = clock.now() if status == TaskStatus.COMPLETED else None
        locked.version += 1
        locked.save()
        TaskEvent.objects.create(task=locked, from_status=previous, to_status=status, owner_id=locked.owner_id,
                                 by_id=actor.user_id, at=clock.now(), note=note.strip()[:500])
        workload.mark_stale([locked.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.UPDATE, "Task", locked.pk, locked.patient_id, f"{previous} -> {status}", channel)
    return locked


def task_reschedule(*, actor: Actor, task: Task, due_date: dt.date | None, priority: str,
                    expected_version: int | None = None, channel: str = "web") -> Task:
    """Change an open task's due date and priority."""
    _require_writer(actor, "Task", "u")
    _require_open(task.care_plan)
    errors: dict[str, list[str]] = {}
    if priority not in TaskPriority.values:
        errors["priority"] = [f"Priority must be one of: {', '.join(TaskPriority.labels)}."]
    if due_date and due_date < task.care_plan.period_start:
        errors["due_date"] = ["The due date is before the plan starts."]
    if errors:
        raise ValidationFailed("The task is not valid.", field_errors=errors)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        _check_version(locked.version, expected_version)
        if locked.status not in rules.TASK_OPEN:
            raise Conflict(f"A {locked.get_status_display().lower()} task cannot be rescheduled.")
        if (locked.due_date, locked.priority) == (due_date, priority):
            return locked
        note = f"Due {due_date.isoformat() if due_date else 'none'}, priority {priority}"
        locked.due_date, locked.priority = due_date, priority
        locked.version += 1
        locked.save()
        TaskEvent.objects.create(task=locked, from_status=locked.status, to_status=locked.status,
                                 owner_id=locked.owner_id, by_id=actor.user_id, at=clock.now(), note=note)
        workload.mark_stale([locked.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.UPDATE, "Task", locked.pk, locked.patient_id, note.lower(), channel)
    return locked


def task_complete(*, actor: Actor, task: Task, note: str = "", expected_version: int | None = None,
                  channel: str = "web") -> Task:
    return task_transition(actor=actor, task=task, status=TaskStatus.COMPLETED, note=note,
                           expected_version=expected_version, channel=channel)


def plan_resources_refresh(*, actor: Actor, plan: CarePlan, channel: str = "web") -> int:
    """Match the directory again (after the plan's needs or the directory changed); returns how many match."""
    _require_writer(actor, "CarePlan", "u")
    _require_open(plan)
    goals_by_need = {g.need: g for g in plan.goals.exclude(need="")}
    matches = match_for_patient(plan.patient, Resource.objects.filter(organization_id=plan.patient.organization_id),
                                limit=8)
    with transaction.atomic():
        plan.plan_resources.all().delete()
        for rank, rec in enumerate(matches):
            linked_goal = next((goals_by_need[n] for n in rec.needs if n in goals_by_need), None)
            PlanResource.objects.create(care_plan=plan, resource=rec.resource, goal=linked_goal, rank=rank,
                                        reasons=list(rec.reasons))
        _log(actor, AuditAction.UPDATE, "CarePlan", plan.pk, plan.patient_id, f"{len(matches)} resources matched",
             channel)
    return len(matches)


# --- barriers -------------------------------------------------------------------------------------------------


@dataclass
class BarrierData:
    kind: str
    description: str = ""
    actions: str = ""
    identified_at: dt.date | None = None


def barrier_open(*, actor: Actor, patient: Patient, data: BarrierData, plan: CarePlan | None = None,
                 channel: str = "web") -> Barrier:
    """Record a barrier to care for a patient (from access_patient), optionally on a care plan."""
    _require_writer(actor, "CarePlan", "u")
    if plan is not None:
        _require_open(plan)
        if plan.patient_id != patient.pk:
            raise ValidationFailed("The care plan belongs to another patient.")
    errors: dict[str, list[str]] = {}
    if data.kind not in BarrierKind.values:
        errors["kind"] = ["Choose the kind of barrier."]
    identified = data.identified_at or clock.today()
    if identified > clock.today():
        errors["identified_at"] = ["The date cannot be in the future."]
    if data.kind == BarrierKind.OTHER and not data.description.strip():
        errors["description"] = ["Describe the barrier."]
    if errors:
        raise ValidationFailed("The barrier is not valid.", field_errors=errors)
    with transaction.atomic():
        barrier = Barrier.objects.create(patient=patient, care_plan=plan, kind=data.kind,
                                         description=data.description.strip()[:300], actions=data.actions.strip(),
                                         identified_at=identified, created_by_id=actor.user_id,
                                         reasons=["Recorded by the navigator."])
        workload.mark_stale([patient.pk])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.CREATE, "Barrier", barrier.pk, patient.pk, f"opened {data.kind}", channel)
    return barrier


def barrier_update(*, actor: Actor, barrier: Barrier, status: str, actions: str | None = None,
                   expected_version: int | None = None, channel: str = "web") -> Barrier:
    """Record actions and move an unresolved barrier between open and being addressed, or reopen a resolved one."""
    _require_writer(actor, "CarePlan", "u")
    if status not in (BarrierStatus.OPEN, BarrierStatus.IN_PROGRESS):
        raise ValidationFailed("Use barrier_resolve to resolve a barrier.")
    with transaction.atomic():
        locked = Barrier.objects.select_for_update().get(pk=barrier.pk)
        _check_version(locked.version, expected_version)
        if status != locked.status and not rules.can_transition(rules.BARRIER_TRANSITIONS, locked.status, status):
            raise Conflict(f"A barrier that is {locked.get_status_display().lower()} cannot become "
                           f"{BarrierStatus(status).label.lower()}.")
        previous = locked.status
        locked.status = status
        if previous == BarrierStatus.RESOLVED:
            locked.resolved_at, locked.resolution = None, ""
        if actions is not None:
            locked.actions = actions.strip()
        locked.version += 1
        locked.save()
        workload.mark_stale([locked.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.UPDATE, "Barrier", locked.pk, locked.patient_id, f"{previous} -> {status}", channel)
    return locked


def barrier_resolve(*, actor: Actor, barrier: Barrier, resolution: str, resolved_at: dt.date | None = None,
                    expected_version: int | None = None, channel: str = "web") -> Barrier:
    _require_writer(actor, "CarePlan", "u")
    when = resolved_at or clock.today()
    errors: dict[str, list[str]] = {}
    if not resolution.strip():
        errors["resolution"] = ["Say how the barrier was resolved."]
    if when > clock.today():
        errors["resolved_at"] = ["The date cannot be in the future."]
    if when < barrier.identified_at:
        errors["resolved_at"] = ["The barrier cannot be resolved before it was identified."]
    if errors:
        raise ValidationFailed("The resolution is not valid.", field_errors=errors)
    with transaction.atomic():
        locked = Barrier.objects.select_for_update().get(pk=barrier.pk)
        _check_version(locked.version, expected_version)
        if not rules.can_transition(rules.BARRIER_TRANSITIONS, locked.status, BarrierStatus.RESOLVED):
            raise Conflict("This barrier is already resolved.")
        locked.status, locked.resolved_at, locked.resolution = BarrierStatus.RESOLVED, when, resolution.strip()[:500]
        locked.version += 1
        locked.save()
        workload.mark_stale([locked.patient_id])  # the stored worklist load of the patient's episodes
        _log(actor, AuditAction.UPDATE, "Barrier", locked.pk, locked.patient_id, "resolved", channel)
    return locked
