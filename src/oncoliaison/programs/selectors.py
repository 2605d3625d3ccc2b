"""Reads of program episodes, always given the actor (patient visibility decides)."""

from __future__ import annotations

from django.db.models import QuerySet

from oncoliaison.accounts.models import User
from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction, AuditOutcome
from oncoliaison.organisations.models import Role
from oncoliaison.patients.selectors import patient_queryset_for

from .models import OPEN_EPISODE_STATUSES, ProgramEpisode

CATEGORY = "program_episode"
RESOURCE = "EpisodeOfCare"


def episode_queryset_for(actor: Actor) -> QuerySet[ProgramEpisode]:
    """Episodes of the patients the actor may see (token scopes are checked by the FHIR and API doors)."""
    return ProgramEpisode.objects.filter(patient__in=patient_queryset_for(actor).values("pk"))


def episode_get_for(actor: Actor, pk: object, *, channel: str = "") -> ProgramEpisode:
    qs = episode_queryset_for(actor).select_related("patient", "organization", "navigator", "clp", "referral",
                                                    "care_team")
    try:
        episode = get_visible_or_404(qs, pk)
    except NotFound:
        audit.log(actor, AuditAction.ACCESS_DENIED, category=CATEGORY, resource_type=RESOURCE,
                  resource_id=str(pk)[:64], outcome=AuditOutcome.DENIED, channel=channel)
        raise
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type=RESOURCE, resource_id=episode.pk,
              patient_id=episode.patient_id, channel=channel)
    return episode


def episode_list_for(actor: Actor, *, open_only: bool = True, channel: str = "web",
                     limit: int = 300) -> list[ProgramEpisode]:
    """Episodes of the actor's programs (staff with a clinical role)."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("The program list is for the clinical staff of a cancer program.")
    qs = episode_queryset_for(actor).filter(organization_id__in=actor.clinical_organization_ids)
    if open_only:
        qs = qs.filter(status__in=OPEN_EPISODE_STATUSES)
    rows = list(qs.select_related("patient", "navigator", "clp", "organization")
                .order_by("patient__family_name", "patient__given_name", "pk")[:limit])
    audit.record(actor, [audit.Entry(AuditAction.READ, CATEGORY, RESOURCE, e.pk, e.patient_id) for e in rows],
                 channel=channel)
    return rows


def program_staff(organization_id: int, role: str) -> QuerySet[User]:
    """Active staff holding ``role`` in the organisation, for the enrollment choices."""
    return (
        User.objects.filter(memberships__organization_id=organization_id, memberships__role=role,
                            memberships__active=True, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def navigators_of(organization_id: int) -> QuerySet[User]:
    return program_staff(organization_id, Role.NAVIGATOR)


def clps_of(organization_id: int) -> QuerySet[User]:
    return program_staff(organization_id, Role.CLP)
