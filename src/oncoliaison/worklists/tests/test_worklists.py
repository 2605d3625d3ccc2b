"""The navigator's worklist, the CLP's escalations and bulk caseload reassignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.careplans.models import Task, TaskEvent
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.core import clock
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.demo.seed import seed_demo
from oncoliaison.monitoring.models import OPEN_STATUSES as ALERT_OPEN
from oncoliaison.monitoring.models import Alert
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.selectors import patient_queryset_for
from oncoliaison.programs import caseload
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode
from oncoliaison.worklists import selectors, services


def test_urgency_puts_severe_alerts_then_overdue_urgent_tasks_first():
    severe, _ = caseload.urgency(caseload.PatientLoad(worst_alert="severe"))
    urgent, reasons = caseload.urgency(caseload.PatientLoad(overdue_tasks=2, overdue_urgent_tasks=1))
    moderate, _ = caseload.urgency(caseload.PatientLoad(worst_alert="moderate", open_barriers=3))
    routine, _ = caseload.urgency(caseload.PatientLoad(overdue_tasks=1, reports_overdue=1))
    quiet, none = caseload.urgency(caseload.PatientLoad())
    assert severe > urgent > moderate > routine > quiet == 0
    assert reasons == ["1 overdue urgent task(s)", "1 overdue task(s)"] and none == []


def test_only_overdue_urgent_asap_or_stat_tasks_escalate():
    today = dt.date(2026, 11, 23)
    assert caseload.task_escalates(priority="urgent", due_date=dt.date(2026, 11, 22), today=today)
    assert caseload.task_escalates(priority="stat", due_date=dt.date(2026, 11, 1), today=today)
    assert not caseload.task_escalates(priority="urgent", due_date=today, today=today)
    assert not caseload.task_escalates(priority="routine", due_date=dt.date(2026, 1, 1), today=today)
    assert not caseload.task_escalates(priority="asap", due_date=None, today=today)


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    seed_demo(patients=24)
    return {u.username: u for u in User.objects.all()}


def test_navigator_worklist_shows_their_caseload_only_and_is_audited(demo):
    nav = actor_for_user(demo["navigator"])
    undated = Task.objects.filter(owner=demo["navigator"], status__in=TASK_OPEN, due_date__gte=clock.today()).first()
    Task.objects.filter(pk=undated.pk).update(due_date=None)
    wl = selectors.worklist_for(nav)
    visible = set(patient_queryset_for(nav).values_list("pk", flat=True))
    caseload = set(ProgramEpisode.objects.filter(navigator=demo["navigator"], status__in=OPEN_EPISODE_STATUSES)
                   .values_list("patient_id", flat=True))
    assert caseload, "the demo program enrolls patients with this navigator"
    severe_on_team = set(Alert.objects.filter(status__in=ALERT_OPEN, severity="severe",
                                              patient__in=selectors.care_team_patients(demo["navigator"].pk))
                         .values_list("patient_id", flat=True))
    assert {r.patient.pk for r in wl.patients} == (caseload | severe_on_team) & visible
    assert all(t.owner_id == demo["navigator"].pk and t.status in TASK_OPEN for t in wl.overdue_tasks + wl.upcoming_tasks)
    assert all(t.due_date < clock.today() for t in wl.overdue_tasks)
    scores = [r.score for r in wl.patients]
    assert scores == sorted(scores, reverse=True)
    # Upcoming: soonest due first, undated last (on both databases).
    upcoming = wl.upcoming_tasks
    assert upcoming and all(t.due_date is None or t.due_date >= clock.today() for t in upcoming)
    dated = [t.due_date for t in upcoming if t.due_date is not None]
    assert dated == sorted(dated)
    assert [t.due_date is None for t in upcoming] == sorted(t.due_date is None for t in upcoming)
    # The task made undated above is among the undated ones at the end (the demo's tumor-board and adherence
    # follow-ups may add undated tasks of their own).
    assert undated.pk in {t.pk for t in upcoming if t.due_date is None}
    shown = {r.patient.pk for r in wl.patients}
    audited = set(AuditEvent.objects.filter(user_id=demo["navigator"].pk, category="worklist")
                  .values_list("patient_id", flat=True))
    assert shown <= audited


def test_other_organisations_and_roles_do_not_get_the_lead_programs_list(demo):
    with pytest.raises(Forbidden):
        selectors.worklist_for(actor_for_user(demo["researcher"]))
    partner_doc = actor_for_user(demo["partnerdoc"])
    wl = selectors.worklist_for(partner_doc)
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    assert all(r.patient.organization_id != lead.pk for r in wl.patients)
    with pytest.raises(Forbidden):  # the lead's navigator's list is not theirs to open
        selectors.worklist_for(partner_doc, navigator_id=demo["navigator"].pk)


def test_clp_sees_overdue_urgent_tasks_as_escalations(demo):
    nav = demo["navigator"]
    task = Task.objects.filter(patient__organization__slug="riverside-cancer-institute", status__in=TASK_OPEN).first()
    assert task is not None
    Task.objects.filter(pk=task.pk).update(priority="urgent", due_date=clock.today() - dt.timedelta(days=2), owner=nav)
    wl = selectors.worklist_for(actor_for_user(demo["clp"]))
    assert task.pk in {t.pk for t in wl.escalations}
    assert selectors.escalated_tasks_for(actor_for_user(nav)) == []  # navigators have no escalation list


def test_bulk_reassign_moves_open_episodes_and_tasks_with_history(demo):
    clp = actor_for_user(demo["clp"])
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    nav, nav2 = demo["navigator"], demo["navigator2"]
    episodes = ProgramEpisode.objects.filter(navigator=nav, status__in=OPEN_EPISODE_STATUSES).count()
    tasks = Task.objects.filter(owner=nav, status__in=TASK_OPEN, patient__organization=lead).count()
    assert episodes and tasks
    result = services.caseload_reassign(actor=clp, organization_id=lead.pk, from_user_id=nav.pk, to_user_id=nav2.pk)
    assert (result.episodes, result.tasks) == (episodes, tasks)
    assert not ProgramEpisode.objects.filter(navigator=nav, status__in=OPEN_EPISODE_STATUSES).exists()
    assert not Task.objects.filter(owner=nav, status__in=TASK_OPEN, patient__organization=lead).exists()
    assert TaskEvent.objects.filter(owner=nav2, note="Caseload reassigned").count() == tasks
    episode = ProgramEpisode.objects.filter(navigator=nav2, care_team__isnull=False).first()
    assert episode is not None
    assert episode.care_team.participants.filter(user=nav2, role="Nurse navigator", end__isnull=True).exists()
    assert AuditEvent.objects.filter(category="caseload").count() == 1


def test_bulk_reassign_refuses_bad_input_and_other_roles_and_changes_nothing(demo):
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    nav = demo["navigator"]
    before = list(ProgramEpisode.objects.order_by("pk").values_list("navigator_id", flat=True))
    with pytest.raises(Forbidden):
        services.caseload_reassign(actor=actor_for_user(nav), organization_id=lead.pk, from_user_id=nav.pk,
                                   to_user_id=demo["navigator2"].pk)
    with pytest.raises(ValidationFailed) as exc:
        services.caseload_reassign(actor=actor_for_user(demo["clp"]), organization_id=lead.pk, from_user_id=nav.pk,
                                   to_user_id=demo["oncologist"].pk)
    assert "to_user" in exc.value.field_errors
    with pytest.raises(Forbidden):
        services.caseload_reassign(actor=actor_for_user(demo["partnerdoc"]), organization_id=lead.pk,
                                   from_user_id=nav.pk, to_user_id=demo["navigator2"].pk)
    assert list(ProgramEpisode.objects.order_by("pk").values_list("navigator_id", flat=True)) == before


def test_worklist_page_filters_with_htmx_and_requires_the_right_role(demo, client, django_assert_max_num_queries):
    url = reverse("worklists:worklist")
    assert client.get(url).status_code == 302  # log-in first
    client.force_login(demo["navigator"])
    with django_assert_max_num_queries(50):  # the first read also recomputes the caseload's stored loads
        client.get(url)
    # A fixed number whatever the rows (a deferred column read per row would add one per row); among them the
    # menu's unread-messages badge and the person's emergency (break-glass) accesses in force, on every page.
    with django_assert_max_num_queries(42):
        page = client.get(url)
    assert page.status_code == 200 and b"Patients by urgency" in page.content and b"<html" in page.content
    fragment = client.get(url, {"priority": "urgent", "sort": "name"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<html" not in fragment.content and b"Patients by urgency" in fragment.content
    client.force_login(demo["researcher"])
    assert client.get(url).status_code == 403
    # Another organisation's navigator is not a choice: the filter is refused and one's own list shows.
    client.force_login(demo["partnerdoc"])
    other = client.get(url, {"navigator": demo["navigator"].pk})
    assert other.status_code == 200 and b"Worklist of" not in other.content


def test_reassign_page_for_clp_only_with_clear_errors(demo, client):
    url = reverse("worklists:reassign")
    client.force_login(demo["navigator"])
    assert client.get(url).status_code == 403
    client.force_login(demo["clp"])
    assert client.get(url).status_code == 200
    nav = demo["navigator"]
    r = client.post(url, {"from_user": nav.pk, "to_user": nav.pk, "include_episodes": "on"})
    assert r.status_code == 400 and b"Choose a different navigator" in r.content
    r = client.post(url, {"from_user": nav.pk, "to_user": demo["navigator2"].pk, "include_episodes": "on",
                          "include_tasks": "on"}, follow=True)
    assert b"Reassigned" in r.content


def test_patients_by_urgency_includes_care_team_patients_with_an_open_severe_alert(demo):
    """A patient navigated by someone else, on whose care team the navigator is, with an open severe alert,
    is on the navigator's 'Patients by urgency' (first, for the alert); a milder alert does not bring them."""
    from oncoliaison.monitoring.models import SymptomReport
    from oncoliaison.patients.models import CareTeam, CareTeamParticipant

    nav = demo["navigator"]
    actor = actor_for_user(nav)
    mine = set(ProgramEpisode.objects.filter(navigator=nav, status__in=OPEN_EPISODE_STATUSES)
               .values_list("patient_id", flat=True))
    team = (CareTeam.objects.filter(status="active", patient__in=patient_queryset_for(actor))
            .exclude(patient_id__in=mine).exclude(participants__user=nav).order_by("pk").first())
    assert team is not None, "the demo has a patient the navigator neither navigates nor is on the team of"
    patient_id = team.patient_id
    Alert.objects.filter(patient_id=patient_id).update(status="resolved")
    CareTeamParticipant.objects.get_or_create(care_team=team, user=nav, role="Nurse navigator (cover)")
    alert = Alert.objects.exclude(patient_id__in=mine).first()
    assert alert is not None
    SymptomReport.objects.filter(pk=alert.report_id).update(patient_id=patient_id)
    Alert.objects.filter(pk=alert.pk).update(patient_id=patient_id, severity="moderate", status="open")

    assert patient_id not in {r.patient.pk for r in selectors.worklist_for(actor).patients}
    Alert.objects.filter(pk=alert.pk).update(severity="severe")
    rows = {r.patient.pk: r for r in selectors.worklist_for(actor).patients}
    assert patient_id in rows
    assert rows[patient_id].reasons[0] == "Severe symptom alert"
    Alert.objects.filter(pk=alert.pk).update(status="resolved")
    assert patient_id not in {r.patient.pk for r in selectors.worklist_for(actor).patients}


def test_home_counts_are_the_actors_own_and_cost_the_same_whatever_the_volume(demo, client, django_assert_max_num_queries):
    """The navigator's home shows their open alerts, overdue tasks and unread messages (and the menu's badge),
    scoped to them, in a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncoliaison.messaging.selectors import unread_count_for

    nav = demo["navigator"]
    actor = actor_for_user(nav)
    counts = selectors.work_counts_for(actor)
    wl = selectors.worklist_for(actor)
    assert counts is not None and counts.alerts == len(wl.alerts) and counts.overdue_tasks == len(wl.overdue_tasks)
    assert counts.overdue_tasks > 0, "the demo navigator has overdue tasks"
    other = selectors.work_counts_for(actor_for_user(demo["partnerdoc"]))
    assert other is not None and (other.overdue_tasks, other.alerts) != (counts.overdue_tasks, counts.alerts)
    assert selectors.work_counts_for(actor_for_user(demo["researcher"])) is None

    client.force_login(nav)
    with CaptureQueriesContext(connection) as before:
        html = client.get(reverse("home:home")).content.decode()
    unread = unread_count_for(actor)
    assert f'<span class="stat">{counts.alerts}</span> open symptom alert' in html
    assert f'<span class="stat">{counts.overdue_tasks}</span> overdue task' in html
    assert f'<span class="stat">{unread}</span> unread message' in html
    if unread:
        assert f'<span class="badge unread">{unread}<span class="visually-hidden"> unread</span>' in html

    # Ten times the overdue tasks: the same number of queries.
    task = Task.objects.filter(owner=nav, status__in=TASK_OPEN, due_date__lt=clock.today()).first()
    for _ in range(30):
        task.pk = None
        task.save()
    with django_assert_max_num_queries(len(before.captured_queries)):
        html = client.get(reverse("home:home")).content.decode()
    assert f'<span class="stat">{counts.overdue_tasks + 30}</span> overdue tasks' in html


def test_caseload_counts_are_the_programs_whoever_administers_it(demo):
    """The program administrator opens no patient record, yet the caseload table (reassign page, dashboard)
    counts the same open episodes and tasks as the CLP sees: counts of the organisation, no patient named."""
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    clp = actor_for_user(User.objects.get(username="clp"))
    admin = actor_for_user(User.objects.get(username="admin"))
    as_clp = [(r["user"].pk, r["episodes"], r["tasks"]) for r in selectors.caseload_summary(clp, lead.pk)]
    assert any(tasks for _, _, tasks in as_clp)
    assert [(r["user"].pk, r["episodes"], r["tasks"]) for r in selectors.caseload_summary(admin, lead.pk)] == as_clp
