"""FHIR R4 mappers for care plans, goals and tasks (registered with oncoliaison.fhir.registry).

CarePlan: ``intent`` plan; ``goal`` lists the plan's Goals; each intervention is an ``activity.detail``
(kind ServiceRequest for referrals, with the referral service as ``code`` in our code system) and each task an
``activity.reference`` to the Task; ``supportingInfo`` references the QuestionnaireResponse it was generated from;
barriers to care are ``note`` annotations ("Barrier: <kind> (<status>) ...").

Goal: ``lifecycleStatus`` maps 1:1 except "completed" (our "Achieved"), which is lifecycle completed with
achievementStatus achieved; the need it addresses is a ``category`` in our need code system.

Task: ``status`` and ``priority`` map 1:1; ``intent`` plan; ``basedOn`` the CarePlan; ``focus`` the Goal;
``owner`` the Practitioner; the due date is ``restriction.period.end`` (as in FHIR workflow); ``executionPeriod.end``
is when it was completed.  A client may update a Task's ``status`` and ``owner`` (the same transition rules and
owner checks as the pages apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from oncoliaison.assessments.fhir import fid as assessment_fid
from oncoliaison.assessments.rules import NEEDS, SERVICES
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import ValidationFailed
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    READ,
    SEARCH,
    UPDATE,
    ResourceMapper,
    SearchParam,
    reference_to,
    register,
)
from oncoliaison.patients.selectors import require_patient_access_role

from . import selectors, services
from .models import (
    Barrier,
    CarePlan,
    CarePlanStatus,
    Goal,
    GoalStatus,
    Intervention,
    Task,
    TaskPriority,
    TaskStatus,
)

_SP = "http://hl7.org/fhir/SearchParameter/"
CS_NEED = f"{codes.CODE_BASE}/CodeSystem/need"
CS_REFERRAL_SERVICE = f"{codes.CODE_BASE}/CodeSystem/referral-service"
CS_GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"


def _patient_filter(field: str) -> Any:
    return params.reference_filter(field, "Patient")


class _PatientLinked(ResourceMapper):
    patient_linked = True
    audit_category = selectors.CATEGORY

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)


# ===================================== CarePlan ===========================================================


def _barrier_note(b: Barrier) -> dict[str, Any]:
    text = f"Barrier: {b.get_kind_display()} ({b.get_status_display().lower()})"
    if b.description:
        text += f" — {b.description}"
    if b.actions:
        text += f". Actions: {b.actions}"
    if b.resolved_at:
        text += f". Resolved {b.resolved_at.isoformat()}: {b.resolution}"
    return {"text": text, "time": codes.instant(b.updated_at)}


def _activity_detail(i: Intervention) -> dict[str, Any]:
    detail: dict[str, Any] = {"status": i.status, "description": i.description}
    if i.service:
        detail["kind"] = "ServiceRequest"
        detail["code"] = {"coding": [codes.coding(CS_REFERRAL_SERVICE, i.service, SERVICES.get(i.service, ""))],
                          "text": i.description}
    if i.goal_id:
        detail["goal"] = [codes.ref("Goal", i.goal_id)]
    return {"detail": detail}


@register
class CarePlanMapper(_PatientLinked):
    resource_type = "CarePlan"
    model = CarePlan
    interactions = (READ, SEARCH)
    documentation = ("Customised care-coordination plans of patients the caller may see; drafts are visible to "
                     "staff only. Barriers to care are in note.")
    search_params = (
        SearchParam("patient", "reference", "The patient.", _patient_filter("patient_id"), _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient.", _patient_filter("patient_id"), _SP + "CarePlan-subject"),
        SearchParam("status", "token", "Plan status.",
                    params.code_filter("status", "http://hl7.org/fhir/request-status", CarePlanStatus.values),
                    _SP + "CarePlan-status"),
        SearchParam("date", "date", "The plan's period (start).", params.date_filter("period_start"),
                    _SP + "clinical-date"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[CarePlan]:
        return selectors.care_plan_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient").prefetch_related(
            "goals", Prefetch("interventions", queryset=Intervention.objects.order_by("position", "id")),
            Prefetch("tasks", queryset=Task.objects.order_by("id")), "barriers",
        )

    def to_fhir(self, plan: CarePlan) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "CarePlan",
            "id": str(plan.pk),
            "meta": codes.meta(plan.version, plan.updated_at, synthetic=plan.patient.synthetic),
            "status": plan.status,
            "intent": "plan",
            "title": plan.title,
            "subject": codes.ref("Patient", plan.patient_id),
            "period": {"start": plan.period_start.isoformat()},
            "created": codes.instant(plan.created_at),
        }
        if plan.period_end:
            out["period"]["end"] = plan.period_end.isoformat()
        if plan.description:
            out["description"] = plan.description
        if plan.created_by_id:
            out["author"] = codes.ref("Practitioner", plan.created_by_id)
        if plan.source_assessment_id:
            out["supportingInfo"] = [codes.ref("QuestionnaireResponse", assessment_fid(plan.source_assessment_id))]
        goals = list(plan.goals.all())
        if goals:
            out["goal"] = [codes.ref("Goal", g.pk) for g in goals]
        activity = [_activity_detail(i) for i in plan.interventions.all()]
        activity += [{"reference": codes.ref("Task", t.pk)} for t in plan.tasks.all()]
        if activity:
            out["activity"] = activity
        notes = [_barrier_note(b) for b in plan.barriers.all()]
        if notes:
            out["note"] = notes
        return out


# ===================================== Goal ===============================================================


@register
class GoalMapper(_PatientLinked):
    resource_type = "Goal"
    model = Goal
    interactions = (READ, SEARCH)
    documentation = "Goals of the care plans the caller may see."
    search_params = (
        SearchParam("patient", "reference", "The patient.", _patient_filter("care_plan__patient_id"),
                    _SP + "clinical-patient"),
        SearchParam("lifecycle-status", "token", "Goal lifecycle status.",
                    params.code_filter("status", "http://hl7.org/fhir/goal-status", GoalStatus.values),
                    _SP + "Goal-lifecycle-status"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Goal]:
        return selectors.goal_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("care_plan", "care_plan__patient")

    patient_field = "care_plan__patient_id"

    def patient_id_of(self, obj: Any) -> int | None:
        return int(obj.care_plan.patient_id)

    versioned = False  # never changed in place
    updated_field = "created_at"

    def to_fhir(self, g: Goal) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Goal",
            "id": str(g.pk),
            "meta": codes.meta(1, g.created_at, synthetic=g.care_plan.patient.synthetic),
            "lifecycleStatus": g.status,
            "description": {"text": g.description},
            "subject": codes.ref("Patient", g.care_plan.patient_id),
        }
        if g.status == GoalStatus.COMPLETED:
            out["achievementStatus"] = {"coding": [codes.coding(CS_GOAL_ACHIEVEMENT, "achieved", "Achieved")]}
        if g.need:
            out["category"] = [{"coding": [codes.coding(CS_NEED, g.need, NEEDS.get(g.need, ""))]}]
        if g.target_date:
            out["target"] = [{"dueDate": g.target_date.isoformat()}]
        if g.reasons:
            out["note"] = [{"text": "Why: " + "; ".join(str(r) for r in g.reasons)}]
        return out


# ===================================== Task ===============================================================


@dataclass
class TaskChange:
    status: str
    owner_id: int | None
    note: str


@register
class TaskMapper(_PatientLinked):
    resource_type = "Task"
    model = Task
    interactions = (READ, SEARCH, UPDATE)
    documentation = ("Care-coordination tasks of the care plans the caller may see. Update changes status (by the "
                     "task transition rules) and owner.")
    search_params = (
        SearchParam("patient", "reference", "The patient the task is for.", _patient_filter("patient_id"),
                    _SP + "Task-patient"),
        SearchParam("owner", "reference", "The practitioner responsible.",
                    params.reference_filter("owner_id", "Practitioner"), _SP + "Task-owner"),
        SearchParam("status", "token", "Task status.",
                    params.code_filter("status", "http://hl7.org/fhir/task-status", TaskStatus.values),
                    _SP + "Task-status"),
        SearchParam("priority", "token", "Task priority.",
                    params.code_filter("priority", "http://hl7.org/fhir/request-priority", TaskPriority.values),
                    _SP + "Task-priority"),
        SearchParam("based-on", "reference", "The care plan.", params.reference_filter("care_plan_id", "CarePlan"),
                    _SP + "Task-based-on"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Task]:
        return selectors.task_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("care_plan", "care_plan__patient", "patient")

    def to_fhir(self, t: Task) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Task",
            "id": str(t.pk),
            "meta": codes.meta(t.version, t.updated_at, synthetic=t.patient.synthetic),
            "status": t.status,
            "intent": "plan",
            "priority": t.priority,
            "description": t.description,
            "for": codes.ref("Patient", t.patient_id),
            "basedOn": [codes.ref("CarePlan", t.care_plan_id)],
            "authoredOn": codes.instant(t.created_at),
            "lastModified": codes.instant(t.updated_at),
        }
        if t.goal_id:
            out["focus"] = codes.ref("Goal", t.goal_id)
        if t.owner_id:
            out["owner"] = codes.ref("Practitioner", t.owner_id)
        if t.created_by_id:
            out["requester"] = codes.ref("Practitioner", t.created_by_id)
        if t.due_date:
            out["restriction"] = {"period": {"end": t.due_date.isoformat()}}
        if t.completed_at:
            out["executionPeriod"] = {"end": codes.instant(t.completed_at)}
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> TaskChange:
        status = str(resource.get("status") or "")
        if status not in TaskStatus.values:
            raise ValidationFailed(f"Task.status must be one of: {', '.join(TaskStatus.values)}.",
                                   field_errors={"status": ["Unsupported status."]})
        owner_id = reference_to(resource.get("owner"), "Practitioner", "owner")
        notes = [str(n.get("text") or "") for n in resource.get("note") or []]
        return TaskChange(status=status, owner_id=owner_id, note=notes[-1] if notes else "")

    def update(self, *, actor: Actor, obj: Task, data: TaskChange, expected_version: int | None) -> Task:
        task = obj
        if data.owner_id != task.owner_id:
            task = services.task_assign(actor=actor, task=task, owner_id=data.owner_id, note=data.note,
                                        expected_version=expected_version, channel="fhir")
            expected_version = None
        if data.status != task.status:
            task = services.task_transition(actor=actor, task=task, status=data.status, note=data.note,
                                            expected_version=expected_version, channel="fhir")
        return task

