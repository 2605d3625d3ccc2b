"""Bulk reassignment of a navigator's caseload (when a navigator is away or leaves)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from oncoliaison.careplans.models import Task
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.careplans.services import task_assign
from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode
from oncoliaison.programs.services import episode_reassign_navigator

from .selectors import reassignable_navigators


@dataclass(frozen=True)
class ReassignResult:
    episodes: int
    tasks: int


def caseload_reassign(*, actor: Actor, organization_id: int, from_user_id: int, to_user_id: int,
                      include_episodes: bool = True, include_tasks: bool = True,
                      channel: str = "web") -> ReassignResult:
    """Move one navigator's open episodes and open tasks at a program to another navigator.

    All or nothing: one transaction; each moved episode and task writes its own audit row and task history."""
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
    moved_episodes = moved_tasks = 0
    with transaction.atomic():
        if include_episodes:
            for episode in ProgramEpisode.objects.filter(
                organization_id=organization_id, navigator_id=from_user_id, status__in=OPEN_EPISODE_STATUSES
            ).select_related("care_team"):
                episode_reassign_navigator(actor=actor, episode=episode, navigator_id=to_user_id, channel=channel)
                moved_episodes += 1
        if include_tasks:
            for task in Task.objects.filter(
                owner_id=from_user_id, status__in=TASK_OPEN, patient__organization_id=organization_id
            ).select_related("care_plan__patient"):
                task_assign(actor=actor, task=task, owner_id=to_user_id, note="Caseload reassigned", channel=channel)
                moved_tasks += 1
        audit.log(actor, AuditAction.ADMIN, category="caseload", resource_type="ProgramEpisode",
                  detail=f"caseload {from_user_id} -> {to_user_id}: {moved_episodes} episodes, {moved_tasks} tasks",
                  channel=channel)
    return ReassignResult(moved_episodes, moved_tasks)
