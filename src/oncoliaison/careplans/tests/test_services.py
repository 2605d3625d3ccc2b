"""Care-plan services: generation from an assessment, edits, task and barrier transitions, audit rows, scoping."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.assessments import services as assessment_services
from oncoliaison.auditlog.selectors import audit_events_reviewable_by
from oncoliaison.careplans import selectors, services
from oncoliaison.careplans.models import (
    Barrier,
    BarrierStatus,
    CarePlan,
    CarePlanStatus,
    Goal,
    Intervention,
    PlanResource,
    Resource,
    Task,
    TaskEvent,
    TaskStatus,
)
from oncoliaison.core import clock
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.oncology.models import CancerCondition
from oncoliaison.testing import Cast


@pytest.fixture
def directory(cast: Cast) -> dict[str, Resource]:
    admin = cast.actor(cast.admin)
    make = lambda **kw: services.resource_create(actor=admin, organization_id=cast.lead.pk,  # noqa: E731
                                                 data=services.ResourceData(**kw))
    return {
        "rides": make(name="Volunteer ride programme", category="transport", needs=["transportation"],
                      languages=["en", "es"]),
        "aid": make(name="Treatment cost assistance fund", category="financial_assistance",
                    needs=["financial", "insurance"], languages=["en"]),
        "breast": make(name="Breast cancer peer circle", category="support_group", needs=["emotional"],
                       cancer_types=["breast"], languages=["en"]),
        "lung": make(name="Lung cancer peer circle", category="support_group", needs=["emotional"],
                     cancer_types=["lung"], languages=["en"]),
        "spanish": make(name="Grupo de apoyo", category="support_group", needs=["emotional"], languages=["es"]),
    }


def _assessment(cast: Cast, versions, answers=None):  # type: ignore[no-untyped-def]
    return assessment_services.assessment_submit(
        actor=cast.actor(cast.navigator), patient=cast.pat, version=versions["nccn-dt"],
        answers=answers or {"distress": ["6"], "problems-emotional": ["worry"],
                            "problems-practical": ["finances", "transportation"]},
    )


def _plan(cast: Cast, versions, **kw) -> CarePlan:  # type: ignore[no-untyped-def]
    return services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat,
                                       assessment=_assessment(cast, versions, **kw))


def test_generation_from_an_assessment(cast: Cast, versions, directory) -> None:
    CancerCondition.objects.create(patient=cast.pat, code="254837009", display="Malignant neoplasm of breast")
    assessment = _assessment(cast, versions)
    psych = assessment.suggestions.get(service="psychology")
    assessment_services.suggestion_decide(actor=cast.actor(cast.navigator), suggestion=psych, accept=True)
    before = AuditEvent.objects.count()
    plan = services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat, assessment=assessment)
    assert plan.status == CarePlanStatus.DRAFT
    assert plan.source_assessment_id == assessment.pk
    assert [g.need for g in plan.goals.all()] == ["emotional", "financial", "transportation"]
    emotional = plan.goals.get(need="emotional")
    assert emotional.reasons == ["Emotional well-being: Emotional: Worry or anxiety"]
    referral = Intervention.objects.get(goal=emotional, service="psychology")
    assert referral.status == "scheduled"  # accepted by the navigator
    assert "Psychology / psychiatry referral accepted by the navigator." in referral.reasons
    tasks = Task.objects.filter(care_plan=plan)
    assert tasks.count() == 3
    assert set(tasks.values_list("owner_id", flat=True)) == {cast.navigator.pk}
    assert set(Barrier.objects.filter(care_plan=plan).values_list("kind", flat=True)) == {"financial", "transportation"}
    matched = list(PlanResource.objects.filter(care_plan=plan).values_list("resource__name", flat=True))
    assert "Breast cancer peer circle" in matched
    assert "Lung cancer peer circle" not in matched
    assert "Grupo de apoyo" not in matched  # the patient's language is English
    assert plan.plan_resources.get(resource=directory["rides"]).goal.need == "transportation"
    assert any("Positive distress screen" in n for n in plan.generation_notes)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.resource_type, event.patient_id) == ("create", "CarePlan", cast.pat.pk)


def test_generation_leaves_out_rejected_referrals_and_repeated_barriers(cast: Cast, versions) -> None:
    Barrier.objects.create(patient=cast.pat, kind="transportation", identified_at=clock.today())
    assessment = _assessment(cast, versions)
    sw = assessment.suggestions.get(service="social_work")
    assessment_services.suggestion_decide(actor=cast.actor(cast.navigator), suggestion=sw, accept=False,
                                          note="Family drives")
    plan = services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat, assessment=assessment)
    transport = plan.goals.get(need="transportation")
    assert not transport.interventions.exists()
    assert not Barrier.objects.filter(care_plan=plan, kind="transportation").exists()
    assert any("already open" in n for n in plan.generation_notes)
    assert any("rejected the Social work referral" in n for n in plan.generation_notes)


def test_interpreter_need_opens_a_language_barrier(cast: Cast, versions) -> None:
    cast.pat.interpreter_needed = True
    cast.pat.save()
    plan = services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat)
    assert [g.need for g in plan.goals.all()] == ["language"]
    assert Barrier.objects.get(care_plan=plan).kind == "language"


def test_generation_refuses_another_patients_assessment_and_non_care_roles(cast: Cast, versions) -> None:
    assessment = _assessment(cast, versions)
    with pytest.raises(ValidationFailed):
        services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.other_patient, assessment=assessment)
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        with pytest.raises(Forbidden):
            services.care_plan_generate(actor=cast.actor(user), patient=cast.pat, assessment=assessment)


def test_outsider_sees_no_plan_task_or_barrier(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    outsider = cast.actor(cast.outsider)
    with pytest.raises(NotFound):
        selectors.care_plan_get_for(outsider, plan.pk)
    with pytest.raises(NotFound):
        selectors.task_get_for(outsider, plan.tasks.first().pk)
    with pytest.raises(NotFound):
        selectors.barrier_get_for(outsider, plan.barriers.first().pk)
    denied = AuditEvent.objects.get(action="access_denied", resource_type="CarePlan")
    assert denied.outcome == "denied"
    # The row names the plan's patient for the patient's organisation only: the outsider's organisation
    # reviews it without the patient (auditlog.selectors.audit_events_reviewable_by), so nothing is disclosed.
    assert denied.patient_id == plan.patient_id
    (seen,) = audit_events_reviewable_by([cast.partner.pk]).filter(pk=denied.pk)
    assert seen.patient_shown is None


def test_draft_plans_are_hidden_from_the_patient_until_active(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    with pytest.raises(NotFound):
        selectors.care_plan_get_for(cast.actor(cast.patient_user), plan.pk)
    services.care_plan_set_status(actor=cast.actor(cast.navigator), plan=plan, status="active")
    assert selectors.care_plan_get_for(cast.actor(cast.patient_user), plan.pk).pk == plan.pk
    assert selectors.care_plan_get_for(cast.actor(cast.caregiver), plan.pk).pk == plan.pk


def test_plan_status_transitions(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    with pytest.raises(Conflict):
        services.care_plan_set_status(actor=nav, plan=plan, status="completed")  # a draft is activated first
    assert set(plan.goals.values_list("status", flat=True)) == {"proposed"}
    plan = services.care_plan_set_status(actor=nav, plan=plan, status="active", expected_version=plan.version)
    assert set(plan.goals.values_list("status", flat=True)) == {"active"}  # agreed with the patient
    with pytest.raises(PreconditionFailed):
        services.care_plan_set_status(actor=nav, plan=plan, status="on-hold", expected_version=1)
    plan = services.care_plan_set_status(actor=nav, plan=plan, status="completed")
    assert plan.period_end == clock.today()
    with pytest.raises(Conflict, match="no longer be changed"):
        services.task_create(actor=nav, plan=plan, data=services.TaskData("x", None, None))


def test_task_lifecycle_with_history_and_audit(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    task = services.task_create(actor=nav, plan=plan, data=services.TaskData(
        description="Call the insurer", owner_id=cast.navigator.pk, due_date=clock.today() + dt.timedelta(days=3),
        priority="asap"))
    assert task.status == TaskStatus.REQUESTED and task.priority == "asap"
    task = services.task_assign(actor=nav, task=task, owner_id=cast.oncologist.pk, note="Needs a letter")
    assert task.owner_id == cast.oncologist.pk
    task = services.task_transition(actor=nav, task=task, status="in-progress")
    task = services.task_complete(actor=nav, task=task, expected_version=task.version)
    assert task.status == TaskStatus.COMPLETED and task.completed_at is not None
    with pytest.raises(Conflict):
        services.task_transition(actor=nav, task=task, status="in-progress")
    with pytest.raises(Conflict):
        services.task_assign(actor=nav, task=task, owner_id=cast.navigator.pk)
    history = list(TaskEvent.objects.filter(task=task).values_list("from_status", "to_status"))
    assert history == [("", "requested"), ("requested", "requested"), ("requested", "in-progress"),
                       ("in-progress", "completed")]
    details = list(AuditEvent.objects.filter(resource_type="Task", resource_id=str(task.pk))
                   .order_by("seq").values_list("detail", flat=True))
    assert details == ["priority asap", f"owner {cast.oncologist.pk}", "requested -> in-progress",
                       "in-progress -> completed"]


def test_task_validation(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed) as exc:
        services.task_create(actor=nav, plan=plan, data=services.TaskData(
            description="", owner_id=cast.outsider.pk, due_date=clock.today() - dt.timedelta(days=30), priority="whenever"))
    assert set(exc.value.field_errors) == {"description", "priority", "due_date"}
    with pytest.raises(ValidationFailed, match="owner"):  # a partner-hospital navigator is not assignable
        services.task_create(actor=nav, plan=plan, data=services.TaskData("Call", cast.outsider.pk, None))
    task = plan.tasks.first()
    with pytest.raises(ValidationFailed, match="Say why"):
        services.task_transition(actor=nav, task=task, status="cancelled")
    with pytest.raises(PreconditionFailed):
        services.task_complete(actor=nav, task=task, expected_version=task.version + 5)


def test_barrier_open_progress_resolve_reopen(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    barrier = services.barrier_open(actor=nav, patient=cast.pat, plan=plan, data=services.BarrierData(
        kind="childcare", description="No one to watch the kids on infusion days"))
    assert barrier.status == BarrierStatus.OPEN and barrier.identified_at == clock.today()
    barrier = services.barrier_update(actor=nav, barrier=barrier, status="in_progress",
                                      actions="Asked the church volunteer group")
    with pytest.raises(ValidationFailed, match="resolution"):
        services.barrier_resolve(actor=nav, barrier=barrier, resolution="")
    with pytest.raises(ValidationFailed):
        services.barrier_resolve(actor=nav, barrier=barrier, resolution="x",
                                 resolved_at=barrier.identified_at - dt.timedelta(days=1))
    barrier = services.barrier_resolve(actor=nav, barrier=barrier, resolution="Volunteer sitter arranged")
    assert barrier.status == BarrierStatus.RESOLVED and barrier.resolved_at == clock.today()
    with pytest.raises(Conflict):
        services.barrier_resolve(actor=nav, barrier=barrier, resolution="again")
    barrier = services.barrier_update(actor=nav, barrier=barrier, status="open")
    assert barrier.resolved_at is None and barrier.resolution == ""
    assert AuditEvent.objects.filter(resource_type="Barrier", resource_id=str(barrier.pk)).count() == 4


def test_barrier_validation(cast: Cast) -> None:
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed) as exc:
        services.barrier_open(actor=nav, patient=cast.pat, data=services.BarrierData(
            kind="other", identified_at=clock.today() + dt.timedelta(days=2)))
    assert set(exc.value.field_errors) == {"description", "identified_at"}
    with pytest.raises(ValidationFailed):
        services.barrier_open(actor=nav, patient=cast.pat, data=services.BarrierData(kind="dragons"))
    with pytest.raises(Forbidden):
        services.barrier_open(actor=cast.actor(cast.patient_user), patient=cast.pat,
                              data=services.BarrierData(kind="financial"))


def test_goals_and_interventions_edits(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    goal = services.goal_add(actor=nav, plan=plan, data=services.GoalData("Walk 20 minutes a day", "symptoms"))
    assert goal.status == "active" and goal.position > 0
    services.intervention_add(actor=nav, plan=plan, goal=goal, description="Physiotherapy referral")
    goal = services.goal_set_status(actor=nav, goal=goal, status="completed")
    with pytest.raises(Conflict):
        services.goal_set_status(actor=nav, goal=goal, status="proposed")
    with pytest.raises(ValidationFailed):
        services.goal_add(actor=nav, plan=plan, data=services.GoalData("x", "world-peace"))
    other = Goal.objects.create(care_plan=services.care_plan_generate(actor=nav, patient=cast.pat), description="x")
    with pytest.raises(ValidationFailed):
        services.intervention_add(actor=nav, plan=plan, goal=other, description="y")


def test_resource_directory_admin(cast: Cast) -> None:
    admin = cast.actor(cast.admin)
    r = services.resource_create(actor=admin, organization_id=cast.lead.pk, data=services.ResourceData(
        name="Lodging programme", category="lodging", needs=["lodging"], languages=["en", "ES"]))
    assert r.languages == ["en", "es"]
    with pytest.raises(Conflict):
        services.resource_create(actor=admin, organization_id=cast.lead.pk, data=services.ResourceData(
            name="Lodging programme", category="lodging", needs=["lodging"]))
    with pytest.raises(ValidationFailed) as exc:
        services.resource_create(actor=admin, organization_id=cast.lead.pk, data=services.ResourceData(
            name="", category="spa", needs=[], cancer_types=["kidney"], languages=["English"], url="ftp://x"))
    assert set(exc.value.field_errors) == {"name", "category", "needs", "cancer_types", "languages", "url"}
    with pytest.raises(Forbidden):
        services.resource_create(actor=cast.actor(cast.navigator), organization_id=cast.lead.pk,
                                 data=services.ResourceData(name="x", category="lodging", needs=["lodging"]))
    with pytest.raises(Forbidden):
        services.resource_update(actor=cast.actor(cast.outsider), resource=r, data=services.ResourceData(
            name="x", category="lodging", needs=["lodging"]))
    updated = services.resource_update(actor=admin, resource=r, expected_version=1, data=services.ResourceData(
        name="Lodging programme", category="lodging", needs=["lodging", "housing"], active=False))
    assert updated.version == 2 and not updated.active
    assert AuditEvent.objects.filter(category="resource_directory").count() == 2


def test_recommended_resources_for_the_portal(cast: Cast, versions, directory) -> None:
    _assessment(cast, versions)
    recs = selectors.recommended_resources_for(cast.actor(cast.patient_user), cast.pat)
    names = [r.resource.name for r in recs]
    assert names[:2] == ["Treatment cost assistance fund", "Volunteer ride programme"] or set(names[:2]) == {
        "Treatment cost assistance fund", "Volunteer ride programme"}
    assert "Lung cancer peer circle" not in names
    assert all(r.reasons for r in recs)
    # Spanish-speaking patients get the Spanish group, not English-only entries.
    cast.pat.preferred_language = "es"
    cast.pat.save()
    names = [r.resource.name for r in selectors.recommended_resources_for(cast.actor(cast.navigator), cast.pat)]
    assert "Grupo de apoyo" in names and "Treatment cost assistance fund" not in names
    with pytest.raises(NotFound):
        selectors.recommended_resources_for(cast.actor(cast.outsider), cast.pat)


def test_no_needs_no_recommendations(cast: Cast, directory) -> None:
    assert selectors.recommended_resources_for(cast.actor(cast.patient_user), cast.pat) == []


def test_my_open_tasks_lists_only_my_open_tasks(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    first = plan.tasks.first()
    services.task_complete(actor=nav, task=first)
    mine = list(selectors.my_open_tasks(nav))
    assert first not in mine and len(mine) == plan.tasks.count() - 1
    assert list(selectors.my_open_tasks(cast.actor(cast.oncologist))) == []


def test_reschedule_is_audited_and_refused_on_closed_tasks(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    nav = cast.actor(cast.navigator)
    task = plan.tasks.first()
    due = clock.today() + dt.timedelta(days=10)
    task = services.task_reschedule(actor=nav, task=task, due_date=due, priority="urgent")
    assert AuditEvent.objects.filter(resource_type="Task", detail=f"due {due.isoformat()}, priority urgent").exists()
    assert TaskEvent.objects.filter(task=task, note__startswith="Due").exists()
    with pytest.raises(ValidationFailed):
        services.task_reschedule(actor=nav, task=task, due_date=due, priority="someday")
    task = services.task_complete(actor=nav, task=task)
    with pytest.raises(Conflict):
        services.task_reschedule(actor=nav, task=task, due_date=due, priority="routine")
    with pytest.raises(Forbidden):
        services.task_reschedule(actor=cast.actor(cast.patient_user), task=task, due_date=due, priority="routine")
