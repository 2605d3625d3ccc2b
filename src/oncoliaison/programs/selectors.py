"""Reads of program episodes, always given the actor (patient visibility decides)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F, QuerySet

from oncoliaison.accounts.models import User
from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Role
from oncoliaison.patients.models import CareTeamParticipant, CareTeamStatus
from oncoliaison.patients.selectors import current_participant_q, patient_queryset_for

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
        audit.log_refused(actor, category=CATEGORY, resource_type=RESOURCE, resource_id=str(pk)[:64],
                          patient_id=owner_patient_id(ProgramEpisode, pk), channel=channel)
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


def current_navigators(patient_ids: Iterable[int], *, today: dt.date | None = None) -> dict[int, int]:
    """patient id -> the user id of the patient's navigator now: the navigator of the patient's open program
    episode at the patient's own organisation (the assignment a hand-off moves), else a navigator who is a
    member today of the patient's active care team there.  Everything that routes work to "the navigator" —
    new and open symptom alerts, their e-mail notices, patients' message threads — reads this."""
    ids = set(patient_ids)
    if not ids:
        return {}
    out: dict[int, int] = {}
    for pid, uid in (ProgramEpisode.objects.filter(patient_id__in=ids, status__in=OPEN_EPISODE_STATUSES,
                                                   organization_id=F("patient__organization_id"),
                                                   navigator__is_active=True)
                     .order_by("pk").values_list("patient_id", "navigator_id")):
        out.setdefault(pid, uid)
    rest = ids - out.keys()
    if rest:
        rows = CareTeamParticipant.objects.filter(
            current_participant_q(today), care_team__patient_id__in=rest, care_team__status=CareTeamStatus.ACTIVE,
            user__is_active=True,
            user__memberships__role=Role.NAVIGATOR, user__memberships__active=True,
            user__memberships__organization_id=F("care_team__organization_id"),
        ).order_by("pk").values_list("care_team__patient_id", "user_id")
        for pid, uid in rows:
            out.setdefault(pid, uid)
    return out
