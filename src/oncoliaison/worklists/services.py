"""Hand-off of patients to another navigator — one or many, by their navigator to a peer or by the CLP —
and the bulk reassignment of a whole caseload (when a navigator is away or leaves), which is the same
hand-off applied to every open episode of the caseload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from oncoliaison.careplans.models import Task
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.careplans.services import task_assign
from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.messaging.services import threads_hand_off
from oncoliaison.monitoring.services import alerts_hand_off
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode
from oncoliaison.programs.selectors import episode_queryset_for
from oncoliaison.programs.services import episode_reassign_navigator, may_hand_off

from .selectors import reassignable_navigators


@dataclass(frozen=True)
class ReassignResult:
    episodes: int
    tasks: int
    alerts: int = 0
    threads: int = 0


HANDOFF_NOTE_REQUIRED = "Write a hand-off note for the navigator who takes over (what is pending, what to watch)."


def _hand_off_one(actor: Actor, episode: ProgramEpisode, to_user_id: int, note: str,
                  channel: str) -> tuple[int, int, int]:
    """Inside the caller's transaction: the episode's navigator and care-team membership, then everything
    routed to the previous navigator for this patient.  Returns (tasks, alerts, threads) moved."""
    previous = episode.navigator_id
    handoff = episode_reassign_navigator(actor=actor, episode=episode, navigator_id=to_user_id, note=note,
                                         channel=channel)
    if handoff is None:
        return 0, 0, 0
    tasks = 0
    for task in Task.objects.filter(owner_id=previous, status__in=TASK_OPEN, patient_id=episode.patient_id
                                    ).select_related("care_plan__patient"):
        task_assign(actor=actor, task=task, owner_id=to_user_id, note=note[:500], channel=channel)
        tasks += 1
    alerts = alerts_hand_off(actor=actor, patient_id=episode.patient_id, from_user_id=previous,
                             to_user_id=to_user_id, channel=channel)
    threads = threads_hand_off(actor=actor, patient_id=episode.patient_id, from_user_id=previous,
                               to_user_id=to_user_id, channel=channel)
    return tasks, alerts, threads


def patients_hand_off(*, actor: Actor, episode_ids: Sequence[int], to_user_id: int, note: str,
                      channel: str = "web") -> ReassignResult:
    """Hand one or many patients (their open program episodes) to another navigator, with a note.

    A navigator hands off their own patients to a peer; the CLP or a program administrator any patient of the
    program (``programs.services.may_hand_off``).  One transaction, all or nothing: each episode's navigator
    and care-team membership move, and so do the patient's open tasks owned by the previous navigator, the
    open symptom alerts assigned to them and the message threads routed to them; each change writes its
    history and audit rows."""
    ids = list(dict.fromkeys(int(i) for i in episode_ids))
    errors: dict[str, list[str]] = {}
    if not ids:
        errors["episodes"] = ["Choose at least one patient."]
    if not note.strip():
        errors["note"] = [HANDOFF_NOTE_REQUIRED]
    episodes = list(episode_queryset_for(actor).filter(pk__in=ids, status__in=OPEN_EPISODE_STATUSES)
                    .select_related("care_team").order_by("pk"))
    if len(episodes) != len(ids):
        errors.setdefault("episodes", []).append("Some of the patients chosen have no open episode you may see.")
    for episode in episodes:
        if not may_hand_off(actor, episode):
            raise Forbidden("You can hand off only your own patients (the CLP can hand off any patient).")
        if episode.navigator_id == to_user_id:
            errors["to_user"] = ["This navigator is already the navigator of a patient chosen."]
        elif not reassignable_navigators(actor, episode.organization_id).filter(pk=to_user_id).exists():
            errors["to_user"] = ["Choose an active navigator of the patient's program."]
    if errors:
        raise ValidationFailed("The hand-off is not valid.", field_errors=errors)
    tasks = alerts = threads = 0
    with transaction.atomic():
        for episode in episodes:
            t, a, m = _hand_off_one(actor, episode, to_user_id, note.strip(), channel)
            tasks, alerts, threads = tasks + t, alerts + a, threads + m
    return ReassignResult(len(episodes), tasks, alerts, threads)


def caseload_reassign(*, actor: Actor, organization_id: int, from_user_id: int, to_user_id: int,
                      include_episodes: bool = True, include_tasks: bool = True, note: str = "",
                      channel: str = "web") -> ReassignResult:
    """Move one navigator's open episodes and open tasks at a program to another navigator.

    All or nothing: one transaction.  Each open episode is handed off as ``patients_hand_off`` does (its
    alerts, tasks and threads follow the navigator); the navigator's other open tasks at the program follow.
    Each moved episode, task, alert and thread writes its own history and audit rows."""
    if not actor.is_admin_of(organization_id) or organization_id not in actor.clinical_organization_ids:
        raise Forbidden("Bulk reassignment is done by the CLP or a program administrator of the program.")
    errors: dict[str, list[str]] = {}
    navigators = set(reassignable_navigators(actor, organization_id).values_list("pk", flat=True))
    if from_user_id not in navigators:
        errors["from_user"] = ["Choose a navigator of the program."]
    if to_user_id not in navigators:
        errors["to_user"] = ["Choose an active navigator of the program."]
    if from_user_id == to_user_id:
        errors["to_user"] = ["Choose a different navigator."]
    if not (include_episodes or include_tasks):
        errors["include"] = ["Choose episodes, tasks or both."]
    if errors:
        raise ValidationFailed("The reassignment is not valid.", field_errors=errors)
    moved_episodes = moved_tasks = moved_alerts = moved_threads = 0
    note = note.strip() or "Caseload reassigned"
    with transaction.atomic():
        if include_episodes:
            for episode in ProgramEpisode.objects.filter(
                organization_id=organization_id, navigator_id=from_user_id, status__in=OPEN_EPISODE_STATUSES
            ).select_related("care_team").order_by("pk"):
                t, a, m = _hand_off_one(actor, episode, to_user_id, note, channel)
                moved_episodes, moved_tasks = moved_episodes + 1, moved_tasks + t
                moved_alerts, moved_threads = moved_alerts + a, moved_threads + m
        if include_tasks:
            for task in Task.objects.filter(
                owner_id=from_user_id, status__in=TASK_OPEN, patient__organization_id=organization_id
            ).select_related("care_plan__patient"):
                task_assign(actor=actor, task=task, owner_id=to_user_id, note=note, channel=channel)
                moved_tasks += 1
        audit.log(actor, AuditAction.ADMIN, category="caseload", resource_type="ProgramEpisode",
                  detail=f"caseload {from_user_id} -> {to_user_id}: {moved_episodes} episodes, {moved_tasks} tasks, "
                         f"{moved_alerts} alerts, {moved_threads} threads",
                  channel=channel)
    return ReassignResult(moved_episodes, moved_tasks, moved_alerts, moved_threads)
