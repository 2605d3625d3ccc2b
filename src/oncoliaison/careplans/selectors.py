"""Reads of care plans, tasks, barriers and the resource directory — always given the actor."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import practitioner_queryset_for
from oncoliaison.assessments.models import Assessment, AssessmentStatus
from oncoliaison.assessments.selectors import assessment_outcome
from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.oncology.models import ConditionCategory
from oncoliaison.oncology.selectors import current_conditions
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

from . import rules
from .models import (
    Barrier,
    CarePlan,
    CarePlanStatus,
    Goal,
    GoalStatus,
    Resource,
    Task,
)

CATEGORY = "care_plan"
HIDDEN_FROM_PATIENTS = (CarePlanStatus.DRAFT, CarePlanStatus.ENTERED_IN_ERROR)


def _visible_patients(actor: Actor) -> QuerySet[Patient]:
    return patient_queryset_for(actor)


def care_plan_queryset_for(actor: Actor) -> QuerySet[CarePlan]:
    if actor.is_system and not actor.allows("CarePlan", "r"):
        return CarePlan.objects.none()
    qs = CarePlan.objects.filter(patient__in=_visible_patients(actor).values("pk"))
    if actor.kind in {"patient", "caregiver"}:
        qs = qs.exclude(status__in=HIDDEN_FROM_PATIENTS)
    return qs


def care_plan_get_for(actor: Actor, pk: object, *, channel: str = "") -> CarePlan:
    """A care plan the actor may see (NotFound for missing and not visible alike); the read is audited."""
    try:
        plan = get_visible_or_404(
            care_plan_queryset_for(actor).select_related("patient", "patient__organization", "source_assessment"), pk
        )
    except NotFound:
        audit.log_refused(actor, category=CATEGORY, resource_type="CarePlan", resource_id=str(pk)[:64],
                          patient_id=owner_patient_id(CarePlan, pk), channel=channel)
        raise
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="CarePlan", resource_id=plan.pk,
              patient_id=plan.patient_id, channel=channel)
    return plan


def care_plan_list_for_patient(actor: Actor, patient: Patient) -> QuerySet[CarePlan]:
    """Care plans of a patient obtained through access_patient (which audited the read)."""
    return care_plan_queryset_for(actor).filter(patient=patient)


def goal_queryset_for(actor: Actor) -> QuerySet[Goal]:
    if actor.is_system and not actor.allows("Goal", "r"):
        return Goal.objects.none()
    return Goal.objects.filter(care_plan__in=care_plan_queryset_for(actor).values("pk"))


def task_queryset_for(actor: Actor) -> QuerySet[Task]:
    if actor.is_system and not actor.allows("Task", "r"):
        return Task.objects.none()
    return Task.objects.filter(care_plan__in=care_plan_queryset_for(actor).values("pk"))


def task_get_for(actor: Actor, pk: object) -> Task:
    return get_visible_or_404(task_queryset_for(actor).select_related("care_plan", "owner"), pk)


def goal_get_for(actor: Actor, pk: object) -> Goal:
    return get_visible_or_404(goal_queryset_for(actor).select_related("care_plan"), pk)


def barrier_queryset_for(actor: Actor) -> QuerySet[Barrier]:
    if actor.is_system and not actor.allows("CarePlan", "r"):
        return Barrier.objects.none()
    return Barrier.objects.filter(patient__in=_visible_patients(actor).values("pk"))


def barrier_get_for(actor: Actor, pk: object) -> Barrier:
    return get_visible_or_404(barrier_queryset_for(actor).select_related("care_plan"), pk)


def my_open_tasks(actor: Actor) -> QuerySet[Task]:
    """Open tasks the signed-in staff member owns, on patients they may still see, oldest due first."""
    if actor.kind != "staff" or actor.user_id is None:
        return Task.objects.none()
    return (
        task_queryset_for(actor)
        .filter(owner_id=actor.user_id, status__in=rules.TASK_OPEN)
        .select_related("care_plan", "patient")
        .order_by("due_date", "id")
    )


def assignable_staff_for(actor: Actor, patient: Patient) -> QuerySet[User]:
    """Staff a task of this patient can be given to: active staff of the patient's or the actor's organisations."""
    orgs = set(actor.organization_ids) | {patient.organization_id}
    return (
        practitioner_queryset_for(actor)
        .filter(is_active=True, memberships__organization_id__in=orgs, memberships__active=True)
        .distinct()
        .order_by("last_name", "first_name")
    )


# --- resource directory -------------------------------------------------------------------------------------


def resource_queryset_for(actor: Actor) -> QuerySet[Resource]:
    """Directory entries curated by the actor's organisations (patients: by their managing organisation)."""
    if actor.kind in {"patient", "caregiver"}:
        orgs = _visible_patients(actor).values("organization_id")
        return Resource.objects.filter(organization_id__in=orgs, active=True)
    if actor.kind not in {"staff", "system"}:
        return Resource.objects.none()
    return Resource.objects.filter(organization_id__in=actor.organization_ids)


def resource_admin_list_for(actor: Actor) -> QuerySet[Resource]:
    """Entries the actor administers (program administrators of the curating organisation)."""
    admin_orgs = actor.admin_organization_ids()
    if not admin_orgs:
        raise Forbidden("The resource directory is managed by program administrators.")
    return Resource.objects.filter(organization_id__in=admin_orgs).select_related("organization")


def resource_admin_get(actor: Actor, pk: object) -> Resource:
    return get_visible_or_404(resource_admin_list_for(actor), pk)


@dataclass(frozen=True)
class NeedProfile:
    needs: tuple[str, ...]
    language: str
    cancer_types: frozenset[str]


def need_profile(patient: Patient) -> NeedProfile:
    """What a patient needs now: needs of open goals on live plans, findings of the latest assessment of each
    instrument, and an interpreter need; with their language and cancer types."""
    needs: list[str] = []
    live = CarePlan.objects.filter(patient=patient, status__in=[CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE,
                                                                 CarePlanStatus.ON_HOLD])
    needs += list(
        Goal.objects.filter(care_plan__in=live, status__in=[GoalStatus.PROPOSED, GoalStatus.ACTIVE,
                                                             GoalStatus.ON_HOLD])
        .exclude(need="").order_by("position").values_list("need", flat=True)
    )
    seen_instruments: set[int] = set()
    for assessment in (
        Assessment.objects.filter(patient=patient, status__in=[AssessmentStatus.COMPLETED, AssessmentStatus.AMENDED])
        .select_related("instrument_version").order_by("-authored_at", "-id")[:10]
    ):
        if assessment.instrument_version.instrument_id in seen_instruments:
            continue
        seen_instruments.add(assessment.instrument_version.instrument_id)
        needs += [f.need for f in assessment_outcome(assessment).findings]
    if patient.interpreter_needed:
        needs.append("language")
    codes = current_conditions(patient).filter(category=ConditionCategory.PRIMARY).values_list("code", flat=True)
    return NeedProfile(tuple(dict.fromkeys(needs)), patient.preferred_language or "en",
                       rules.cancer_types_for(codes))


def resource_facts(resource: Resource) -> rules.ResourceFacts:
    return rules.ResourceFacts(
        id=resource.pk, name=resource.name, category=resource.category, needs=tuple(resource.needs),
        cancer_types=tuple(resource.cancer_types), languages=tuple(resource.languages), audience=resource.audience,
    )


@dataclass(frozen=True)
class Recommendation:
    resource: Resource
    score: int
    reasons: tuple[str, ...]
    needs: tuple[str, ...]


def match_for_patient(patient: Patient, candidates: QuerySet[Resource], *, limit: int = 10,
                      audience: str = "patients") -> list[Recommendation]:
    profile = need_profile(patient)
    if not profile.needs:
        return []
    pool = {r.pk: r for r in candidates.filter(active=True)}
    matches = rules.match_resources(
        [resource_facts(r) for r in pool.values()], needs=profile.needs, language=profile.language,
        cancer_types=profile.cancer_types, audience=audience, limit=limit,
    )
    return [Recommendation(pool[m.resource_id], m.score, m.reasons, m.needs) for m in matches]


def recommended_resources_for(actor: Actor, patient: Patient, *, limit: int = 10) -> list[Recommendation]:
    """'Recommended for you': directory entries matched to the patient's needs, language and cancer type.

    ``patient`` must come from access_patient (which audits the read).  For the patient portal; staff get the
    same list.  Entries come from the patient's managing organisation's directory.
    """
    if not patient_queryset_for(actor).filter(pk=patient.pk).exists():
        raise NotFound()
    audience = "caregivers" if actor.kind == "caregiver" else "patients"
    candidates = Resource.objects.filter(organization_id=patient.organization_id)
    return match_for_patient(patient, candidates, limit=limit, audience=audience)
