"""Care-plan pages: a patient's plans, generating one from an assessment, the plan page (goals, tasks, barriers,
matched resources) with inline htmx edits, the staff member's task list, and the resource directory admin.

Every inline form also works as a plain POST that redirects back to the plan (no JavaScript needed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.assessments.models import AssessmentStatus
from oncoliaison.assessments.rules import NEEDS, SERVICES
from oncoliaison.assessments.selectors import assessment_get_for, assessment_list_for_patient
from oncoliaison.core import audit, clock
from oncoliaison.core.access import require_staff
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, DomainError, PreconditionFailed, ValidationFailed
from oncoliaison.core.views import actor_of, announce_change, form_error_from, is_htmx, maps_domain_errors
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from . import models, rules, selectors, services
from .forms import ResourceForm


def _care_staff(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    require_staff(actor)
    require_patient_access_role(actor)
    return actor


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _date_or_none(raw: str | None, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = ["Enter a date as YYYY-MM-DD."]
        return None


def _first_error(exc: DomainError) -> str:
    for field_messages in exc.field_errors.values():
        if field_messages:
            return field_messages[0]
    return exc.message


# --- patient's plans and generation --------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def patient_plans(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = _care_staff(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    assessments = assessment_list_for_patient(actor, patient).filter(
        status__in=[AssessmentStatus.COMPLETED, AssessmentStatus.AMENDED])[:20]
    return render(request, "careplans/patient.html", {
        "patient": patient,
        "plans": selectors.care_plan_list_for_patient(actor, patient).prefetch_related("goals"),
        "assessments": assessments,
        "barriers": selectors.barrier_queryset_for(actor).filter(patient=patient).exclude(status="resolved"),
    })


@never_cache
@login_required
@require_POST
@maps_domain_errors
def plan_generate(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = _care_staff(request)
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel="web")
    assessment = None
    raw = request.POST.get("assessment", "")
    if raw:
        assessment = assessment_get_for(actor, raw, channel="web")
        if assessment.patient_id != patient.pk:
            messages.error(request, "Choose an assessment of this patient.")
            return redirect("careplans:patient", patient_id=patient.pk)
    try:
        plan = services.care_plan_generate(actor=actor, patient=patient, assessment=assessment,
                                           title=request.POST.get("title", ""), channel="web")
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _first_error(exc))
        return redirect("careplans:patient", patient_id=patient.pk)
    messages.success(request, "A draft care plan was generated. Review it with the patient, then activate it.")
    return redirect("careplans:detail", pk=plan.pk)


# --- the plan page -------------------------------------------------------------------------------------------


_GOALS_ENDED = frozenset({models.GoalStatus.COMPLETED, models.GoalStatus.CANCELLED})


def _plan_context(actor: Actor, plan: models.CarePlan) -> dict[str, Any]:
    today = clock.today()
    tasks = list(plan.tasks.select_related("owner", "goal").order_by("status", "due_date", "id"))
    for t in tasks:
        _decorate(t, today)
    goals = list(plan.goals.prefetch_related("interventions"))
    barriers = list(selectors.barrier_queryset_for(actor).filter(patient=plan.patient))
    # What is finished folds away under a summary line, so the page opens on what still needs doing.
    return {
        "plan": plan,
        "patient": plan.patient,
        "goals": goals,
        "current_goals": [g for g in goals if g.status not in _GOALS_ENDED],
        "ended_goals": [g for g in goals if g.status in _GOALS_ENDED],
        "loose_interventions": list(plan.interventions.filter(goal__isnull=True)),
        "tasks": tasks,
        "open_tasks": [t for t in tasks if t.status in rules.TASK_OPEN],
        "closed_tasks": [t for t in tasks if t.status not in rules.TASK_OPEN],
        "barriers": barriers,
        "open_barriers": [b for b in barriers if b.status != models.BarrierStatus.RESOLVED],
        "resolved_barriers": [b for b in barriers if b.status == models.BarrierStatus.RESOLVED],
        "plan_resources": list(plan.plan_resources.select_related("resource", "goal")),
        "staff": list(selectors.assignable_staff_for(actor, plan.patient)),
        "today": today,
        "editable": plan.status not in services.CLOSED_PLANS,
        "next_statuses": [models.CarePlanStatus(s) for s in sorted(rules.CARE_PLAN_TRANSITIONS[plan.status])],
        **_task_choices(),
        "barrier_kinds": models.BarrierKind.choices,
        "goal_statuses": models.GoalStatus.choices,
        "activity_statuses": models.ActivityStatus.choices,
        "needs": sorted(NEEDS.items(), key=lambda kv: kv[1]),
        "services": SERVICES.items(),
    }


@never_cache
@login_required
@require_GET
@maps_domain_errors
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    return render(request, "careplans/detail.html", _plan_context(actor, plan))


def _back_to_plan(request: HttpRequest, plan_id: int, error: str = "", success: str = "") -> HttpResponse:
    if error:
        messages.error(request, error)
    elif success:
        messages.success(request, success)
    return redirect("careplans:detail", pk=plan_id)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def plan_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    try:
        services.care_plan_set_status(actor=actor, plan=plan, status=request.POST.get("status", ""),
                                      expected_version=_int_or_none(request.POST.get("version")))
    except (ValidationFailed, Conflict, PreconditionFailed) as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success="The plan status was changed.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def goal_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    errors: dict[str, list[str]] = {}
    target = _date_or_none(request.POST.get("target_date"), "target_date", errors)
    try:
        if errors:
            raise ValidationFailed("The goal is not valid.", field_errors=errors)
        services.goal_add(actor=actor, plan=plan, data=services.GoalData(
            description=request.POST.get("description", ""), need=request.POST.get("need", ""), target_date=target))
    except (ValidationFailed, Conflict) as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success="Goal added.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def goal_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    goal = selectors.goal_get_for(actor, pk)
    try:
        services.goal_set_status(actor=actor, goal=goal, status=request.POST.get("status", ""))
    except (ValidationFailed, Conflict) as exc:
        return _back_to_plan(request, goal.care_plan_id, error=_first_error(exc))
    return _back_to_plan(request, goal.care_plan_id, success="Goal updated.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def intervention_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    goal_id = _int_or_none(request.POST.get("goal"))
    goal = plan.goals.filter(pk=goal_id).first() if goal_id else None
    try:
        services.intervention_add(actor=actor, plan=plan, goal=goal, description=request.POST.get("description", ""),
                                  service=request.POST.get("service", ""))
    except (ValidationFailed, Conflict) as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success="Intervention added.")


# --- tasks (inline) ---------------------------------------------------------------------------------------


def _task_row(request: HttpRequest, actor: Actor, task: models.Task, error: str = "", done: str = "") -> HttpResponse:
    _decorate(task, clock.today())
    response = render(request, "careplans/detail.html#task", {
        "t": task, "error": error, "staff": list(selectors.assignable_staff_for(actor, task.care_plan.patient)),
        "editable": task.care_plan.status not in services.CLOSED_PLANS, **_task_choices(),
    })
    return announce_change(response, error or done, focus=f"task-{task.pk}")


def _task_choices() -> dict[str, Any]:
    return {"task_priorities": models.TaskPriority.choices}


def _decorate(task: models.Task, today: dt.date) -> models.Task:
    """Add what the task row shows: overdue, and the statuses it may move to (besides Complete)."""
    task.overdue = rules.is_overdue(task.status, task.due_date, today)  # type: ignore[attr-defined]  # shown by the template
    task.next_statuses = [  # type: ignore[attr-defined]  # shown by the template
        (t, models.TaskStatus(t).label) for t in sorted(rules.TASK_TRANSITIONS[task.status]) if t != models.TaskStatus.COMPLETED
    ]
    return task


@never_cache
@login_required
@require_POST
@maps_domain_errors
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    errors: dict[str, list[str]] = {}
    due = _date_or_none(request.POST.get("due_date"), "due_date", errors)
    try:
        if errors:
            raise ValidationFailed("The task is not valid.", field_errors=errors)
        services.task_create(actor=actor, plan=plan, data=services.TaskData(
            description=request.POST.get("description", ""),
            owner_id=_int_or_none(request.POST.get("owner")),
            due_date=due,
            priority=request.POST.get("priority", models.TaskPriority.ROUTINE),
            goal_id=_int_or_none(request.POST.get("goal")),
        ))
    except (ValidationFailed, Conflict) as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success="Task added.")


def _task_change(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    actor = _care_staff(request)
    task = selectors.task_get_for(actor, pk)
    version = _int_or_none(request.POST.get("version"))
    note = request.POST.get("note", "")
    error = ""
    try:
        if change == "reschedule":
            errors: dict[str, list[str]] = {}
            due = _date_or_none(request.POST.get("due_date"), "due_date", errors)
            if errors:
                raise ValidationFailed("The task is not valid.", field_errors=errors)
            task = services.task_reschedule(actor=actor, task=task, due_date=due,
                                            priority=request.POST.get("priority", ""), expected_version=version)
        elif change == "complete":
            task = services.task_complete(actor=actor, task=task, note=note, expected_version=version)
        elif change == "reassign":
            task = services.task_assign(actor=actor, task=task, owner_id=_int_or_none(request.POST.get("owner")),
                                        note=note, expected_version=version)
        else:
            task = services.task_transition(actor=actor, task=task, status=request.POST.get("status", ""),
                                            note=note, expected_version=version)
    except (ValidationFailed, Conflict, PreconditionFailed) as exc:
        error = _first_error(exc)
        task = selectors.task_get_for(actor, pk)
    done = _TASK_DONE.get(change, "Task updated.").format(status=task.get_status_display().lower())
    if is_htmx(request):
        return _task_row(request, actor, task, error, done)
    return _back_to_plan(request, task.care_plan_id, error=error, success=done)


_TASK_DONE = {"reschedule": "Task rescheduled.", "complete": "Task completed.", "reassign": "Task reassigned.",
              "status": "Task status changed to {status}."}


@never_cache
@login_required
@require_POST
@maps_domain_errors
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_change(request, pk, "complete")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_change(request, pk, "reassign")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_change(request, pk, "status")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def task_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_change(request, pk, "reschedule")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def plan_resources_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    try:
        count = services.plan_resources_refresh(actor=actor, plan=plan)
    except Conflict as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success=f"{count} resource(s) match this plan now.")


@never_cache
@login_required
@require_GET
@maps_domain_errors
def my_tasks(request: HttpRequest) -> HttpResponse:
    actor = _care_staff(request)
    tasks = list(selectors.my_open_tasks(actor)[:200])
    today = clock.today()
    for t in tasks:
        t.overdue = rules.is_overdue(t.status, t.due_date, today)  # type: ignore[attr-defined]  # shown by the template
    audit.log_patients_read(actor, [t.patient_id for t in tasks], category=selectors.CATEGORY, resource_type="Task",
                            channel="web")
    return render(request, "careplans/my_tasks.html", {"tasks": tasks, "today": today})


# --- barriers (inline) -----------------------------------------------------------------------------------------


def _barrier_row(request: HttpRequest, barrier: models.Barrier, error: str = "", done: str = "") -> HttpResponse:
    response = render(request, "careplans/detail.html#barrier", {"b": barrier, "error": error, "today": clock.today()})
    return announce_change(response, error or done, focus=f"barrier-{barrier.pk}")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def barrier_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _care_staff(request)
    plan = selectors.care_plan_get_for(actor, pk, channel="web")
    errors: dict[str, list[str]] = {}
    identified = _date_or_none(request.POST.get("identified_at"), "identified_at", errors)
    try:
        if errors:
            raise ValidationFailed("The barrier is not valid.", field_errors=errors)
        services.barrier_open(actor=actor, patient=plan.patient, plan=plan, data=services.BarrierData(
            kind=request.POST.get("kind", ""), description=request.POST.get("description", ""),
            actions=request.POST.get("actions", ""), identified_at=identified))
    except (ValidationFailed, Conflict) as exc:
        return _back_to_plan(request, plan.pk, error=_first_error(exc))
    return _back_to_plan(request, plan.pk, success="Barrier recorded.")


def _barrier_change(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    actor = _care_staff(request)
    barrier = selectors.barrier_get_for(actor, pk)
    version = _int_or_none(request.POST.get("version"))
    error = ""
    errors: dict[str, list[str]] = {}
    try:
        if change == "resolve":
            when = _date_or_none(request.POST.get("resolved_at"), "resolved_at", errors)
            if errors:
                raise ValidationFailed("The resolution is not valid.", field_errors=errors)
            barrier = services.barrier_resolve(actor=actor, barrier=barrier, resolution=request.POST.get("resolution", ""),
                                               resolved_at=when, expected_version=version)
        else:
            barrier = services.barrier_update(actor=actor, barrier=barrier, status=request.POST.get("status", ""),
                                              actions=request.POST.get("actions"), expected_version=version)
    except (ValidationFailed, Conflict, PreconditionFailed) as exc:
        error = _first_error(exc)
        barrier = selectors.barrier_get_for(actor, pk)
    done = {"resolve": "Barrier resolved.", "open": "Barrier reopened."}.get(
        change if change == "resolve" else barrier.status, "Barrier actions saved.")
    if is_htmx(request):
        return _barrier_row(request, barrier, error, done)
    if barrier.care_plan_id:
        return _back_to_plan(request, barrier.care_plan_id, error=error, success="Barrier updated.")
    if error:
        messages.error(request, error)
    return redirect("careplans:patient", patient_id=barrier.patient_id)


@never_cache
@login_required
@require_POST
@maps_domain_errors
def barrier_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _barrier_change(request, pk, "resolve")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def barrier_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _barrier_change(request, pk, "update")


# --- resource directory (program administrators) ------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def resource_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    resources = selectors.resource_admin_list_for(actor)
    return render(request, "careplans/resources.html", {
        "resources": resources, "needs": NEEDS, "cancer_types": rules.CANCER_TYPES,
    })


def _resource_data(form: ResourceForm) -> services.ResourceData:
    d = form.cleaned_data
    return services.ResourceData(
        name=d["name"], category=d["category"], description=d["description"], audience=d["audience"],
        needs=list(d["needs"]), cancer_types=list(d["cancer_types"]), languages=d["languages"],
        eligibility=d["eligibility"], cost=d["cost"], cost_note=d["cost_note"], contact=d["contact"],
        phone=d["phone"], url=d["url"], active=d["active"],
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def resource_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    selectors.resource_admin_list_for(actor)  # program administrators only (403 otherwise)
    org_id = min(actor.admin_organization_ids())
    form = ResourceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.resource_create(actor=actor, organization_id=org_id, data=_resource_data(form))
            except (ValidationFailed, Conflict) as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "The resource was added to the directory.")
                return redirect("careplans:resources")
        status = 400
    return render(request, "careplans/resource_form.html", {"form": form, "resource": None}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def resource_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    resource: models.Resource = selectors.resource_admin_get(actor, pk)
    form = ResourceForm(request.POST or None, instance_values=resource)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.resource_update(actor=actor, resource=resource, data=_resource_data(form),
                                         expected_version=form.cleaned_data.get("version"))
            except (ValidationFailed, Conflict, PreconditionFailed) as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "The resource was updated.")
                return redirect("careplans:resources")
        status = 400
    return render(request, "careplans/resource_form.html", {"form": form, "resource": resource}, status=status)
