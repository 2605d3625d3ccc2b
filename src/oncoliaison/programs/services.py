"""Writes to program episodes: enrollment (which also builds the patient's care team) and status changes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import CareTeam, CareTeamStatus, Patient
from oncoliaison.patients.services import CareTeamData, ParticipantData, care_team_create, care_team_update
from oncoliaison.referrals.models import Referral, ReferralStatus

from . import rules
from .models import OPEN_EPISODE_STATUSES, EpisodeStatus, NavigatorHandoff, ProgramEpisode

CATEGORY = "program_episode"
RESOURCE = "EpisodeOfCare"
NAVIGATOR_ROLE = "Nurse navigator"
CLP_ROLE = "Cancer Liaison Physician"
CARE_TEAM_NAME = "Cancer Liaison Program care team"


def _require_program_staff(actor: Actor, organization_id: int) -> None:
    if actor.kind != "staff" or organization_id not in actor.clinical_organization_ids:
        raise Forbidden("Enrollment is done by the clinical staff of the program.")


def _holds_role(user_id: int | None, organization_id: int, role: str) -> bool:
    return user_id is not None and Membership.objects.filter(
        user_id=user_id, organization_id=organization_id, role=role, active=True, user__is_active=True
    ).exists()


def _build_care_team(actor: Actor, patient: Patient, organization_id: int, navigator_id: int, clp_id: int,
                     start: dt.date, channel: str) -> CareTeam:
    """Add the navigator and the CLP to the patient's active care team at the program, creating it if
    there is none.  Members already on the team stay as they are."""
    wanted = [ParticipantData(user_id=navigator_id, role=NAVIGATOR_ROLE, start=start),
              ParticipantData(user_id=clp_id, role=CLP_ROLE, start=start)]
    team = (
        CareTeam.objects.filter(patient=patient, organization_id=organization_id, status=CareTeamStatus.ACTIVE)
        .order_by("pk")
        .first()
    )
    if team is None:
        return care_team_create(actor=actor, patient=patient, data=CareTeamData(name=CARE_TEAM_NAME,
                                participants=wanted), channel=channel)
    current = [
        ParticipantData(user_id=p.user_id, role=p.role, role_code=p.role_code, start=p.start, end=p.end)
        for p in team.participants.order_by("pk")
    ]
    present = {(p.user_id, p.role) for p in current if p.end is None or p.end >= start}
    missing = [p for p in wanted if (p.user_id, p.role) not in present]
    if not missing:
        return team
    # A member who left the team and is named again is re-joined rather than listed twice.
    rejoining = {(p.user_id, p.role) for p in missing}
    current = [p for p in current if (p.user_id, p.role) not in rejoining]
    return care_team_update(actor=actor, team=team, data=CareTeamData(name=team.name, status=team.status,
                            participants=current + missing), channel=channel)


def episode_enroll(*, actor: Actor, navigator_id: int, clp_id: int, referral: Referral | None = None,
                   patient: Patient | None = None, organization_id: int | None = None,
                   start: dt.date | None = None, channel: str = "") -> ProgramEpisode:
    """Open the patient's program episode, assign the navigator and the CLP, and put both on the care team.

    Enroll from an accepted ``referral`` (the program is the one that received it), or enroll a
    ``patient`` obtained through an access guard in ``organization_id`` (default: the actor's program).
    """
    if (referral is None) == (patient is None):
        raise ValidationFailed("Enroll either from a referral or for a patient.")
    if referral is not None:
        if referral.status != ReferralStatus.ACCEPTED or referral.patient_id is None:
            raise Conflict("Only an accepted referral can lead to enrollment; accept it first.")
        org_id = referral.receiving_organization_id
        patient = referral.patient
    else:
        orgs = actor.clinical_organization_ids
        if organization_id is None and len(orgs) == 1:
            organization_id = next(iter(orgs))
        if organization_id is None:
            raise ValidationFailed("Choose the program.", field_errors={"organization": ["Choose the program."]})
        org_id = organization_id
    assert patient is not None
    _require_program_staff(actor, org_id)
    start = start or clock.today()
    errors: dict[str, list[str]] = {}
    if not _holds_role(navigator_id, org_id, Role.NAVIGATOR):
        errors["navigator"] = ["Choose a nurse navigator of the program."]
    if not _holds_role(clp_id, org_id, Role.CLP):
        errors["clp"] = ["Choose the program's Cancer Liaison Physician."]
    if start < clock.today() - dt.timedelta(days=366) or start > clock.today() + dt.timedelta(days=366):
        errors["start"] = ["The start must be within a year of today."]
    if errors:
        raise ValidationFailed("The enrollment is not complete.", field_errors=errors)
    if ProgramEpisode.objects.filter(patient=patient, organization_id=org_id,
                                     status__in=OPEN_EPISODE_STATUSES).exists():
        raise Conflict("The patient is already enrolled in this program (an episode is open).")
    try:
        with transaction.atomic():
            team = _build_care_team(actor, patient, org_id, navigator_id, clp_id, start, channel)
            episode = ProgramEpisode.objects.create(
                patient=patient, organization_id=org_id,
                status=EpisodeStatus.PLANNED if start > clock.today() else EpisodeStatus.ACTIVE,
                period_start=start, navigator_id=navigator_id, clp_id=clp_id, referral=referral, care_team=team,
            )
            audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type=RESOURCE,
                      resource_id=episode.pk, patient_id=patient.pk, detail="enrolled", channel=channel)
    except IntegrityError as exc:
        raise Conflict("The patient is already enrolled in this program (an episode is open).") from exc
    return episode


def episode_set_status(*, actor: Actor, episode: ProgramEpisode, status: str, note: str = "",
                       expected_version: int | None = None, channel: str = "") -> ProgramEpisode:
    """Hold, resume, finish or cancel an episode (see rules.TRANSITIONS)."""
    _require_program_staff(actor, episode.organization_id)
    with transaction.atomic():
        locked = ProgramEpisode.objects.select_for_update().get(pk=episode.pk)
        if expected_version is not None and expected_version != locked.version:
            raise PreconditionFailed("The episode was changed by someone else. Reload it and try again.")
        problem = rules.transition_error(locked.status, status)
        if problem:
            raise Conflict(problem)
        if status == EpisodeStatus.CANCELLED and not note.strip():
            raise ValidationFailed("Say why the episode is cancelled.",
                                   field_errors={"note": ["Say why the episode is cancelled."]})
        previous = locked.status
        locked.status = status
        if status in rules.ENDING:
            locked.period_end = max(clock.today(), locked.period_start)
        if note.strip():
            locked.status_note = note.strip()
        locked.version += 1
        locked.save()
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type=RESOURCE, resource_id=locked.pk,
                  patient_id=locked.patient_id, detail=f"{previous} -> {status}", channel=channel)
    return locked


def may_hand_off(actor: Actor, episode: ProgramEpisode) -> bool:
    """The CLP or a program administrator may hand any open episode of the program to another navigator; a
    navigator may hand off the patients whose navigator they are now, to a peer."""
    if actor.is_admin_of(episode.organization_id) and episode.organization_id in actor.clinical_organization_ids:
        return True
    return (actor.kind == "staff" and actor.user_id is not None and episode.navigator_id == actor.user_id
            and _holds_role(actor.user_id, episode.organization_id, Role.NAVIGATOR))


def episode_reassign_navigator(*, actor: Actor, episode: ProgramEpisode, navigator_id: int, note: str = "",
                               channel: str = "web") -> NavigatorHandoff | None:
    """Give an open episode to another navigator of the program, with a note for them.

    The previous navigator's care-team period ends today (they are no longer a member: see
    ``patients.selectors.current_participant_q``) and the new one joins the team; a hand-off row keeps the
    history.  Returns it, or None when the episode already had this navigator.  Everything else that follows
    the navigator (alerts, tasks, message threads) is moved by ``worklists.services.patients_hand_off``,
    which calls this."""
    if not may_hand_off(actor, episode):
        raise Forbidden("A patient is handed off by their navigator, the CLP or a program administrator.")
    if not _holds_role(navigator_id, episode.organization_id, Role.NAVIGATOR):
        raise ValidationFailed("Choose an active navigator of the program.",
                               field_errors={"navigator": ["Not an active navigator of the program."]})
    if episode.status not in OPEN_EPISODE_STATUSES:
        raise Conflict("Only an open episode can be given to another navigator.")
    today = clock.today()
    with transaction.atomic():
        locked = ProgramEpisode.objects.select_for_update().get(pk=episode.pk)
        if locked.navigator_id == navigator_id:
            return None
        previous = locked.navigator_id
        locked.navigator_id = navigator_id
        locked.version += 1
        locked.save(update_fields=["navigator", "version", "updated_at"])
        team = locked.care_team
        if team is not None:
            participants = []
            for p in team.participants.order_by("pk"):
                if p.user_id == navigator_id and p.role == NAVIGATOR_ROLE:
                    continue
                ends = p.user_id == previous and p.role == NAVIGATOR_ROLE and (p.end is None or p.end > today)
                participants.append(ParticipantData(user_id=p.user_id, role=p.role, role_code=p.role_code,
                                                    start=p.start, end=today if ends else p.end))
            participants.append(ParticipantData(user_id=navigator_id, role=NAVIGATOR_ROLE, start=today))
            care_team_update(actor=actor, team=team, data=CareTeamData(name=team.name, status=team.status,
                             participants=participants), channel=channel)
        handoff = NavigatorHandoff.objects.create(
            episode=locked, patient_id=locked.patient_id, from_navigator_id=previous, to_navigator_id=navigator_id,
            note=note.strip()[:4000], by_id=actor.user_id, at=clock.now(),
        )
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type=RESOURCE, resource_id=locked.pk,
                  patient_id=locked.patient_id, detail=f"navigator {previous} -> {navigator_id}", channel=channel)
    episode.navigator_id = navigator_id
    return handoff
