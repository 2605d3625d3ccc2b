"""Symptom alerts: acknowledging, acting on, escalating, resolving and handing off, each audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Q

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Role
from oncoliaison.patients.models import CareTeamParticipant, Patient
from oncoliaison.patients.selectors import current_participant_q, visible_patient_ids_q
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode

from .. import notify
from ..models import (
    NOTE_REQUIRED,
    STAFF_ACTIONS,
    ActionKind,
    Alert,
    AlertAction,
    AlertStatus,
    Severity,
)
from .configuration import (
    CATEGORY,
)

# --- alerts ------------------------------------------------------------------------------------------------


def require_care_role(actor: Actor) -> None:
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Responding to symptom alerts needs a care role.")


def _locked_alert(actor: Actor, alert: Alert, expected_version: int | None) -> Alert:
    q = visible_patient_ids_q(actor)
    if q is None:
        raise NotFound()
    locked = (Alert.objects.select_for_update().filter(pk=alert.pk, patient__in=Patient.objects.filter(q))
              .first())
    if locked is None:
        raise NotFound()
    if expected_version is not None and expected_version != locked.version:
        raise PreconditionFailed("Someone else updated this alert; reload it.")
    return locked


def _log_alert(actor: Actor, alert: Alert, detail: str, channel: str) -> None:
    audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="Flag", resource_id=alert.pk,
              patient_id=alert.patient_id, detail=detail, channel=channel)


def alert_acknowledge(*, actor: Actor, alert: Alert, expected_version: int | None = None,
                      channel: str = "web") -> Alert:
    require_care_role(actor)
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            raise Conflict("This alert is already resolved.")
        if locked.acknowledged_at is None:
            now = clock.now()
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
            if locked.status == AlertStatus.OPEN:
                locked.status = AlertStatus.ACKNOWLEDGED
            locked.version += 1
            locked.save()
            AlertAction.objects.create(alert=locked, kind=ActionKind.ACKNOWLEDGED, by_id=actor.user_id, at=now)
            _log_alert(actor, locked, "acknowledged", channel)
    return locked


def _current_physicians(alert: Alert, clinical_roles: Sequence[str]) -> list[tuple[int, str]]:
    """(user id, program role) of the members today of the patient's active care teams who hold one of
    ``clinical_roles`` at the alert's organisation, in the order they joined."""
    return [
        (int(uid), str(role)) for uid, role in CareTeamParticipant.objects.filter(
            current_participant_q(), care_team__patient_id=alert.patient_id, care_team__status="active",
            user__is_active=True, user__memberships__role__in=list(clinical_roles), user__memberships__active=True,
            user__memberships__organization_id=alert.organization_id,
        ).values_list("user_id", "user__memberships__role").order_by("id")
    ]


def _program_clp(alert: Alert) -> int | None:
    """The CLP of the patient's open program episode at the alert's organisation, else one on the care team."""
    episode_clp = (ProgramEpisode.objects.filter(patient_id=alert.patient_id, organization_id=alert.organization_id,
                                                 status__in=OPEN_EPISODE_STATUSES, clp__is_active=True)
                   .order_by("pk").values_list("clp_id", flat=True).first())
    if episode_clp is not None:
        return int(episode_clp)
    team = _current_physicians(alert, [Role.CLP])
    return team[0][0] if team else None


def overdue_escalation_target(alert: Alert) -> int | None:
    """Who an alert that passed its deadline unacknowledged goes to: the program's CLP (oversight of the
    navigators' response), else the patient's treating physician."""
    clp = _program_clp(alert)
    if clp is not None:
        return clp
    physicians = _current_physicians(alert, [Role.PHYSICIAN])
    return physicians[0][0] if physicians else None


def physician_escalation_target(alert: Alert) -> int | None:
    """Who "Escalated to physician" goes to: the patient's treating physician (a physician on the patient's
    care team today, the first to have joined), with the program's CLP as the fallback."""
    physicians = _current_physicians(alert, [Role.PHYSICIAN])
    if physicians:
        return physicians[0][0]
    return _program_clp(alert)


def alert_record_action(*, actor: Actor, alert: Alert, kind: str, note: str = "",
                        expected_version: int | None = None, channel: str = "web") -> Alert:
    """Record what was done (called, advised, escalated to a physician, sent to emergency, a note).
    Acting on an alert acknowledges it."""
    require_care_role(actor)
    if kind not in STAFF_ACTIONS:
        raise ValidationFailed("Choose an action.", field_errors={"kind": ["Unknown action."]})
    if not note.strip():
        # What was said or done is the record: "Called the patient" with no note documents nothing.
        raise ValidationFailed(NOTE_REQUIRED[kind], field_errors={"note": [NOTE_REQUIRED[kind]]})
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            raise Conflict("This alert is already resolved.")
        now = clock.now()
        escalated_to: int | None = None
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
            AlertAction.objects.create(alert=locked, kind=ActionKind.ACKNOWLEDGED, by_id=actor.user_id, at=now)
            if locked.status == AlertStatus.OPEN:
                locked.status = AlertStatus.ACKNOWLEDGED
        if kind == ActionKind.ESCALATED_TO_PHYSICIAN:
            locked.status = AlertStatus.ESCALATED
            locked.escalated_at = now
            locked.escalated_to_id = physician_escalation_target(locked)
            escalated_to = locked.escalated_to_id
        locked.version += 1
        locked.save()
        AlertAction.objects.create(alert=locked, kind=kind, note=note.strip()[:2000], by_id=actor.user_id, at=now)
        _log_alert(actor, locked, f"action {kind}" + (f"; to {escalated_to}" if escalated_to else ""), channel)
        if escalated_to is not None:
            alert_id = locked.pk
            transaction.on_commit(lambda: _notify_escalation(alert_id))
    return locked


def _notify_escalation(alert_id: int) -> None:
    notify.notify_escalation.enqueue(alert_id)


def alert_resolve(*, actor: Actor, alert: Alert, note: str = "", expected_version: int | None = None,
                  channel: str = "web") -> Alert:
    require_care_role(actor)
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            return locked
        if not locked.actions.exclude(kind__in=[ActionKind.ACKNOWLEDGED, ActionKind.ESCALATED_AUTOMATICALLY]).exists() \
                and not note.strip():
            raise ValidationFailed("Record what was done (an action or a note) before resolving.",
                                   field_errors={"note": ["Say what was done."]})
        now = clock.now()
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
        locked.status, locked.resolved_at, locked.resolved_by_id = AlertStatus.RESOLVED, now, actor.user_id
        locked.version += 1
        locked.save()
        AlertAction.objects.create(alert=locked, kind=ActionKind.RESOLVED, note=note.strip()[:2000],
                                   by_id=actor.user_id, at=now)
        _log_alert(actor, locked, "resolved", channel)
    return locked


def alerts_hand_off(*, actor: Actor, patient_id: int, from_user_id: int, to_user_id: int,
                    channel: str = "web") -> int:
    """A patient's navigator changed: the patient's open alerts assigned to the previous navigator (or to
    no one) are assigned to the new one, in the hand-off's transaction; a severe alert nobody has
    acknowledged yet is notified to the new navigator once it commits.  Returns how many alerts moved."""
    alerts = list(Alert.objects.select_for_update().filter(
        Q(assigned_to_id=from_user_id) | Q(assigned_to__isnull=True),
        patient_id=patient_id, status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED],
    ))
    if not alerts:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(assigned_to_id=to_user_id, version=F("version") + 1)
    audit.record(actor, [audit.Entry(AuditAction.UPDATE, CATEGORY, "Flag", a.pk, patient_id,
                                     detail=f"assigned to navigator {to_user_id} (was {a.assigned_to_id})")
                         for a in alerts], channel=channel)
    unanswered = [a.pk for a in alerts if a.severity == Severity.SEVERE and a.status == AlertStatus.OPEN]
    if unanswered:
        transaction.on_commit(lambda: notify_new_alerts(unanswered))
    return len(alerts)


def notify_new_alerts(alert_ids: list[int]) -> None:
    """After commit: tell the assigned navigators of new severe alerts (monitoring.notify)."""
    notify.notify_alerts.enqueue(alert_ids)
