"""Care-plan pages: login and role, hiding other organisations, inline htmx edits with no-JS fallback, admin."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.test import Client

from oncoliaison.assessments import services as assessment_services
from oncoliaison.careplans import services
from oncoliaison.careplans.models import Barrier, CarePlan, Resource, Task
from oncoliaison.core import clock
from oncoliaison.testing import Cast


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _body(response) -> str:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


def _plan(cast: Cast, versions) -> CarePlan:  # type: ignore[no-untyped-def]
    a = assessment_services.assessment_submit(
        actor=cast.actor(cast.navigator), patient=cast.pat, version=versions["ahc-hrsn-core"],
        answers={"transportation": ["yes"], "utilities": ["already-shut-off"]})
    return services.care_plan_generate(actor=cast.actor(cast.navigator), patient=cast.pat, assessment=a)


def test_requires_login(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    response = Client().get(f"/careplans/{plan.pk}/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_requires_a_care_role(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        assert _client(user).get(f"/careplans/{plan.pk}/").status_code == 403
    assert _client(cast.navigator).get("/careplans/resources/").status_code == 403  # admins only


def test_hides_other_organisations_same_404_as_missing(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    outsider = _client(cast.outsider)
    a, b = outsider.get(f"/careplans/{plan.pk}/"), outsider.get(f"/careplans/{plan.pk + 500}/")
    assert a.status_code == b.status_code == 404 and _body(a) == _body(b)
    a, b = outsider.get(f"/careplans/patient/{cast.pat.pk}/"), outsider.get("/careplans/patient/424242/")
    assert a.status_code == b.status_code == 404 and _body(a) == _body(b)
    task = plan.tasks.first()
    assert outsider.post(f"/careplans/tasks/{task.pk}/complete/").status_code == 404
    task.refresh_from_db()
    assert task.status == "requested"
    barrier = plan.barriers.first()
    assert outsider.post(f"/careplans/barriers/{barrier.pk}/resolve/", {"resolution": "x"}).status_code == 404


def test_plan_page_shows_goals_tasks_barriers_resources(cast: Cast, versions, django_assert_max_num_queries) -> None:
    services.resource_create(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, data=services.ResourceData(
        name="Volunteer rides", category="transport", needs=["transportation"]))
    plan = _plan(cast, versions)
    Task.objects.filter(care_plan=plan).update(due_date=clock.today() - dt.timedelta(days=2))
    client = _client(cast.navigator)
    with django_assert_max_num_queries(40):
        response = client.get(f"/careplans/{plan.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Get to every appointment" in body
    assert "Keep utilities on at home" in body
    assert "Overdue" in body
    assert "Volunteer rides" in body
    assert "Why:" in body
    assert "no-store" in response["Cache-Control"]


def test_patient_page_and_generate(cast: Cast, versions) -> None:
    client = _client(cast.navigator)
    assert client.get(f"/careplans/patient/{cast.pat.pk}/").status_code == 200
    response = client.post(f"/careplans/patient/{cast.pat.pk}/generate/", {"assessment": "", "title": "Plan A"})
    plan = CarePlan.objects.get()
    assert response["Location"] == f"/careplans/{plan.pk}/"
    assert plan.title == "Plan A"
    # Someone else's assessment id: the same 404 as a missing one.
    assert client.post(f"/careplans/patient/{cast.pat.pk}/generate/", {"assessment": "99999"}).status_code == 404


def test_complete_task_inline_with_htmx(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    task = plan.tasks.first()
    response = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/complete/", {"version": task.version},
                                            HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="task-{task.pk}"')
    assert "Completed" in body
    task.refresh_from_db()
    assert task.status == "completed"


def test_stale_version_shows_a_clear_error_inline(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    task = plan.tasks.first()
    response = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/complete/", {"version": task.version + 3},
                                            HTTP_HX_REQUEST="true")
    assert "Someone else changed this in the meantime" in response.content.decode()


def test_reassign_task_without_javascript(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    task = plan.tasks.first()
    response = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/reassign/",
                                            {"owner": cast.oncologist.pk, "version": task.version})
    assert response.status_code == 302 and response["Location"] == f"/careplans/{plan.pk}/"
    task.refresh_from_db()
    assert task.owner_id == cast.oncologist.pk
    response = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/reassign/",
                                            {"owner": cast.outsider.pk}, follow=True)
    assert "Choose a staff member of the patient&#x27;s or your organisation." in response.content.decode()


def test_add_task_with_bad_input_gives_a_clear_error(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    response = _client(cast.navigator).post(f"/careplans/{plan.pk}/tasks/", {
        "description": "Call", "due_date": "23/11/2026", "priority": "routine"}, follow=True)
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()
    response = _client(cast.navigator).post(f"/careplans/{plan.pk}/tasks/", {
        "description": "Call the ride service", "due_date": (clock.today() + dt.timedelta(days=7)).isoformat(),
        "priority": "urgent",
        "owner": cast.navigator.pk}, follow=True)
    assert "Task added." in response.content.decode()
    assert Task.objects.filter(description="Call the ride service", priority="urgent").exists()


def test_barrier_add_resolve_inline(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    client = _client(cast.navigator)
    client.post(f"/careplans/{plan.pk}/barriers/", {"kind": "fear_distrust", "description": "Worried about side effects"})
    barrier = Barrier.objects.get(kind="fear_distrust")
    response = client.post(f"/careplans/barriers/{barrier.pk}/resolve/", {"resolution": "", "version": barrier.version},
                           HTTP_HX_REQUEST="true")
    assert "Say how the barrier was resolved." in response.content.decode()
    response = client.post(f"/careplans/barriers/{barrier.pk}/resolve/", {
        "resolution": "Met the nurse educator", "resolved_at": clock.today().isoformat(), "version": barrier.version,
    }, HTTP_HX_REQUEST="true")
    assert response.content.decode().strip().startswith(f'<li class="card" id="barrier-{barrier.pk}"')
    barrier.refresh_from_db()
    assert barrier.status == "resolved"


def test_plan_status_and_goal_forms(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    client = _client(cast.navigator)
    client.post(f"/careplans/{plan.pk}/status/", {"status": "active", "version": plan.version})
    plan.refresh_from_db()
    assert plan.status == "active"
    response = client.post(f"/careplans/{plan.pk}/goals/", {"description": "", "need": "financial"}, follow=True)
    assert "Describe the goal." in response.content.decode()
    client.post(f"/careplans/{plan.pk}/goals/", {"description": "Return to work part-time", "need": "work"})
    goal = plan.goals.get(description="Return to work part-time")
    if goal.status == "proposed":
        client.post(f"/careplans/goals/{goal.pk}/status/", {"status": "active"})
    client.post(f"/careplans/goals/{goal.pk}/status/", {"status": "completed"})
    goal.refresh_from_db()
    assert goal.status == "completed"
    client.post(f"/careplans/{plan.pk}/interventions/", {"description": "Letter to employer", "goal": goal.pk})
    assert goal.interventions.filter(description="Letter to employer").exists()


def test_my_tasks_page(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    response = _client(cast.navigator).get("/careplans/tasks/mine/")
    assert response.status_code == 200
    assert plan.tasks.first().description in response.content.decode()


def test_resource_admin_create_and_edit(cast: Cast) -> None:
    client = _client(cast.admin)
    assert client.get("/careplans/resources/").status_code == 200
    assert client.get("/careplans/resources/new/").status_code == 200
    response = client.post("/careplans/resources/new/", {"name": "", "category": "lodging", "audience": "both",
                                                         "languages": "en", "cost": "free"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post("/careplans/resources/new/", {
        "name": "Hope Lodge-style stay", "category": "lodging", "audience": "both", "needs": ["lodging"],
        "languages": "en, es", "cost": "free", "active": "on"})
    assert response.status_code == 302
    r = Resource.objects.get()
    assert r.languages == ["en", "es"] and r.organization_id == cast.lead.pk
    response = client.post(f"/careplans/resources/{r.pk}/edit/", {
        "name": "Hope stay", "category": "lodging", "audience": "both", "needs": ["lodging", "transportation"],
        "languages": "en", "cost": "free", "version": r.version})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.name == "Hope stay" and not r.active and r.needs == ["lodging", "transportation"]
    # Another organisation's administrator cannot open it.
    assert _client(cast.outsider).get(f"/careplans/resources/{r.pk}/edit/").status_code == 403


def test_change_status_and_reschedule_inline(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    task = plan.tasks.first()
    client = _client(cast.navigator)
    page = client.get(f"/careplans/{plan.pk}/").content.decode()
    assert 'value="on-hold">On hold</option>' in page  # the allowed next statuses of a new task
    response = client.post(f"/careplans/tasks/{task.pk}/status/", {"status": "cancelled", "version": task.version},
                           HTTP_HX_REQUEST="true")
    assert "A reason is required." in response.content.decode()
    response = client.post(f"/careplans/tasks/{task.pk}/status/", {"status": "in-progress", "version": task.version},
                           HTTP_HX_REQUEST="true")
    assert "In progress" in response.content.decode()
    task.refresh_from_db()
    due = clock.today() + dt.timedelta(days=2)
    response = client.post(f"/careplans/tasks/{task.pk}/reschedule/", {
        "due_date": due.isoformat(), "priority": "stat", "version": task.version}, HTTP_HX_REQUEST="true")
    assert "Immediately (stat)" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.due_date, task.priority) == ("in-progress", due, "stat")
    response = client.post(f"/careplans/tasks/{task.pk}/reschedule/", {"due_date": "soon", "priority": "stat"},
                           HTTP_HX_REQUEST="true")
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_refresh_matched_resources(cast: Cast, versions) -> None:
    plan = _plan(cast, versions)
    assert not plan.plan_resources.exists()
    services.resource_create(actor=cast.actor(cast.admin), organization_id=cast.lead.pk, data=services.ResourceData(
        name="Shut-off prevention fund", category="financial_assistance", needs=["utilities"]))
    response = _client(cast.navigator).post(f"/careplans/{plan.pk}/resources/refresh/", follow=True)
    assert "1 resource(s) match this plan now." in response.content.decode()
    link = plan.plan_resources.get()
    assert link.goal.need == "utilities"
    assert _client(cast.outsider).post(f"/careplans/{plan.pk}/resources/refresh/").status_code == 404


def test_the_plan_page_opens_on_what_still_needs_doing(cast: Cast, versions) -> None:
    """Completed and cancelled tasks, achieved goals and resolved barriers fold away under a summary line (a
    closed <details>), so a long-running plan does not grow into a page of finished work."""
    plan = _plan(cast, versions)
    client = _client(cast.navigator)
    done, *still_open = list(plan.tasks.order_by("id"))
    client.post(f"/careplans/tasks/{done.pk}/complete/", {"version": done.version})
    goal = plan.goals.order_by("id").first()
    if goal.status == "proposed":
        client.post(f"/careplans/goals/{goal.pk}/status/", {"status": "active"})
    client.post(f"/careplans/goals/{goal.pk}/status/", {"status": "completed"})
    client.post(f"/careplans/{plan.pk}/barriers/", {"kind": "fear_distrust", "description": "Worried"})
    barrier = Barrier.objects.get(kind="fear_distrust")
    client.post(f"/careplans/barriers/{barrier.pk}/resolve/", {
        "resolution": "Met the nurse educator", "resolved_at": clock.today().isoformat(), "version": barrier.version})
    body = client.get(f"/careplans/{plan.pk}/").content.decode()

    def folded(section_id: str) -> str:
        match = re.search(rf'<details class="card folded" id="{section_id}">(.*?)</details>', body, re.S)
        assert match, section_id
        return match.group(1)

    tasks = folded("closed-tasks")
    assert "Completed and cancelled tasks (1)" in tasks and f'id="task-{done.pk}"' in tasks
    assert all(f'id="task-{t.pk}"' not in tasks for t in still_open)
    assert all(f'id="task-{t.pk}"' in body for t in still_open)
    assert "Achieved and cancelled goals (1)" in folded("ended-goals") and f'id="goal-{goal.pk}"' in folded("ended-goals")
    assert "Resolved barriers (1)" in folded("resolved-barriers")
    assert f'id="barrier-{barrier.pk}"' in folded("resolved-barriers")
    # each appears once: folded, not copied
    assert body.count(f'id="task-{done.pk}"') == 1 and body.count(f'id="goal-{goal.pk}"') == 1


def test_an_inline_change_says_what_happened_and_where(cast: Cast, versions) -> None:
    """Every htmx action names its result for the page's live region and the row that takes focus."""
    plan = _plan(cast, versions)
    task = plan.tasks.first()
    response = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/complete/", {"version": task.version},
                                            HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger-After-Settle"]) == {
        "oncoliaison:changed": {"announce": "Task completed.", "focus": f"task-{task.pk}"}}
    stale = _client(cast.navigator).post(f"/careplans/tasks/{task.pk}/complete/", {"version": task.version},
                                         HTTP_HX_REQUEST="true")
    announced = json.loads(stale["HX-Trigger-After-Settle"])["oncoliaison:changed"]["announce"]
    assert announced and announced != "Task completed."  # the error, not a success
