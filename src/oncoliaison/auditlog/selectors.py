"""Reads of the audit log, always given the actor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Value, When

from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditEvent, AuditOutcome
from oncoliaison.patients.models import Patient


def audit_events_reviewable_by(organization_ids: Collection[int]) -> QuerySet[AuditEvent]:
    """The one definition of what organisations may review: actions by their people and clients, and
    actions on — or refused attempts at — their patients' records by anyone.

    Each row carries ``patient_shown``: its patient, except on a refused row about a patient who is not
    the reviewing organisation's own, where it is None.  A refused row records the patient the request
    was aimed at so that the patient's organisation sees the attempt; shown to the requester's
    organisation it would tell them the patient exists.  Doors display and filter ``patient_shown``."""
    own_patients = Patient.objects.filter(organization_id__in=organization_ids).values("pk")
    hidden = Q(outcome=AuditOutcome.DENIED) & ~Q(patient_id__in=own_patients)
    return AuditEvent.objects.filter(
        Q(organization_id__in=organization_ids) | Q(patient_id__in=own_patients)
    ).annotate(patient_shown=Case(When(hidden, then=Value(None)), default=F("patient_id"),
                                  output_field=BigIntegerField()))


def audit_event_list_for(
    actor: Actor,
    organization_id: int,
    *,
    user_id: int | None = None,
    patient_id: int | None = None,
    action: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit rows an organisation may review, newest first: actions by its people and clients, and
    actions on its patients' records by anyone (an accounting of disclosures).

    People need the administrator role in the organisation; an API client may read only its own
    organisation's rows, with an AuditEvent search scope.  ``until`` is exclusive.
    """
    if actor.is_system:
        if organization_id != actor.client_organization_id or not actor.allows("AuditEvent", "s"):
            raise Forbidden("A client may read only its own organisation's audit log, with the AuditEvent scope.")
    else:
        require_admin(actor, organization_id)
    rows = audit_events_reviewable_by([organization_id])
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if patient_id is not None:
        rows = rows.filter(Q(patient_shown=patient_id))
    if action:
        rows = rows.filter(action=action)
    if since is not None:
        rows = rows.filter(recorded_at__gte=since)
    if until is not None:
        rows = rows.filter(recorded_at__lt=until)
    return rows.order_by("-seq")
