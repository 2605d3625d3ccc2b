"""The patient load stored on open episodes (careplans.workload) and the worklist ranking that reads it:
the ranking must equal urgency computed from scratch for every patient of the caseload, after writes,
after time passes, and after writes that bypass the ORM's signals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.careplans import services as careplans
from oncoliaison.careplans import workload
from oncoliaison.careplans.models import Barrier, BarrierStatus, CarePlan, Task
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.core import clock
from oncoliaison.demo.seed import seed_demo
from oncoliaison.monitoring.models import OPEN_STATUSES as ALERT_OPEN
from oncoliaison.monitoring.models import Alert
from oncoliaison.programs import caseload
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode
from oncoliaison.worklists import selectors


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    seed_demo(patients=24)
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def day(monkeypatch):  # type: ignore[no-untyped-def]
    """A settable 'today' for core.clock."""
    state = {"now": timezone.now()}
    monkeypatch.setattr(clock, "now", lambda: state["now"])
    monkeypatch.setattr(clock, "today", lambda: timezone.localdate(state["now"]))
    return state


def _from_scratch(navigator: User, today: dt.date) -> dict[int, int]:
    """Urgency of every caseload patient, counted directly from tasks, barriers and alerts."""
    patient_ids = set(ProgramEpisode.objects.filter(navigator=navigator, status__in=OPEN_EPISODE_STATUSES)
                      .values_list("patient_id", flat=True))
    # ... and the patients of their care teams with an open severe alert, whoever navigates them
    patient_ids |= set(Alert.objects.filter(status__in=ALERT_OPEN, severity="severe",
                                            patient__care_teams__participants__user=navigator,
                                            patient__care_teams__status="active").values_list("patient_id", flat=True))
    scores = {}
    for pid in patient_ids:
        tasks = Task.objects.filter(patient_id=pid, status__in=TASK_OPEN, due_date__lt=today)
        severities = list(Alert.objects.filter(patient_id=pid, status__in=ALERT_OPEN).values_list("severity", flat=True))
        worst = max(severities, key=caseload.severity_rank, default="")
        load = caseload.PatientLoad(
            worst_alert=worst, overdue_tasks=tasks.count(),
            overdue_urgent_tasks=tasks.filter(priority__in=caseload.ESCALATING_PRIORITIES).count(),
            open_barriers=Barrier.objects.filter(patient_id=pid).exclude(status=BarrierStatus.RESOLVED).count(),
        )
        scores[pid] = caseload.urgency(load)[0]
    return scores


def _assert_ranking_is_exact(navigator: User) -> None:
    wl = selectors.worklist_for(actor_for_user(navigator))
    truth = _from_scratch(navigator, clock.today())
    listed = {r.patient.pk: r.score for r in wl.patients}
    assert listed, "the demo caseload is listed"
    for pid, score in listed.items():
        assert score == truth[pid], f"patient {pid}: listed {score}, counted {truth[pid]}"
    # Nobody left off the list is more urgent than the last one on it.
    if len(wl.patients) < len(truth):
        left_off = max((s for pid, s in truth.items() if pid not in listed), default=0)
        assert left_off <= min(listed.values())
    assert [r.score for r in wl.patients] == sorted((r.score for r in wl.patients), reverse=True)


def test_ranking_matches_a_count_from_scratch_and_stores_fresh_loads(demo):
    nav = demo["navigator"]
    assert ProgramEpisode.objects.filter(navigator=nav, load_stale=True).exists()
    _assert_ranking_is_exact(nav)
    episodes = ProgramEpisode.objects.filter(navigator=nav, status__in=OPEN_EPISODE_STATUSES)
    assert not episodes.filter(workload.expired_q(clock.today())).exists()
    for ep in episodes:
        expected = workload.compute([ep.patient_id], clock.today())[ep.patient_id]
        assert {k: getattr(ep, k) for k in expected} == expected


def test_task_and_barrier_writes_mark_the_load_stale_and_the_next_read_counts_them(demo):
    nav = demo["navigator"]
    actor = actor_for_user(nav)
    selectors.worklist_for(actor)
    plan = CarePlan.objects.filter(patient__program_episodes__navigator=nav,
                                   patient__program_episodes__status__in=OPEN_EPISODE_STATUSES).first()
    episode = ProgramEpisode.objects.get(patient_id=plan.patient_id, navigator=nav, status__in=OPEN_EPISODE_STATUSES)
    before = episode.load_score
    assert episode.load_stale is False

    careplans.task_create(actor=actor, plan=plan, data=careplans.TaskData(
        description="Call about transport", owner_id=nav.pk, due_date=clock.today() - dt.timedelta(days=3),
        priority="urgent"))
    episode.refresh_from_db()
    assert episode.load_stale is True
    _assert_ranking_is_exact(nav)
    episode.refresh_from_db()
    assert episode.load_stale is False and episode.load_score >= before + 300

    task = Task.objects.filter(patient_id=plan.patient_id, description="Call about transport").get()
    careplans.task_complete(actor=actor, task=task, note="Booked")
    _assert_ranking_is_exact(nav)
    episode.refresh_from_db()
    assert episode.load_score == before


def test_a_task_falling_overdue_overnight_expires_the_load(demo, day):
    nav = demo["navigator"]
    actor = actor_for_user(nav)
    plan = CarePlan.objects.filter(patient__program_episodes__navigator=nav,
                                   patient__program_episodes__status__in=OPEN_EPISODE_STATUSES).first()
    careplans.task_create(actor=actor, plan=plan, data=careplans.TaskData(
        description="Check lab results", owner_id=nav.pk, due_date=clock.today(), priority="stat"))
    _assert_ranking_is_exact(nav)
    episode = ProgramEpisode.objects.get(patient_id=plan.patient_id, navigator=nav, status__in=OPEN_EPISODE_STATUSES)
    assert episode.load_valid_until is not None and episode.load_valid_until <= clock.today() + dt.timedelta(days=1)
    score_today = episode.load_score

    day["now"] += dt.timedelta(days=1)  # no write at all: the task is overdue now
    assert ProgramEpisode.objects.filter(pk=episode.pk).filter(workload.expired_q(clock.today())).exists()
    _assert_ranking_is_exact(nav)
    episode.refresh_from_db()
    assert episode.load_score >= score_today + 300


def test_writes_that_bypass_signals_are_counted_after_mark_stale_and_the_command_refreshes_all(demo, capsys):
    nav = demo["navigator"]
    selectors.worklist_for(actor_for_user(nav))
    open_tasks = Task.objects.filter(patient__program_episodes__navigator=nav, status__in=TASK_OPEN)
    patient_ids = set(open_tasks.values_list("patient_id", flat=True))
    open_tasks.update(due_date=clock.today() - dt.timedelta(days=30))  # an SQL-level change: no signal
    workload.mark_stale(patient_ids)
    _assert_ranking_is_exact(nav)

    ProgramEpisode.objects.update(load_stale=True)
    call_command("refresh_worklist_loads")
    assert "episodes" in capsys.readouterr().out
    assert not ProgramEpisode.objects.filter(status__in=OPEN_EPISODE_STATUSES).filter(
        Q(load_stale=True)).exists()
    _assert_ranking_is_exact(nav)
