"""Reads of the audit log, always given the actor."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .access import require_admin
from .actor import Actor
from .errors import Forbidden
from .models import AuditEvent


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
    from oncoliaison.patients.models import Patient

    if actor.is_system:
        if organization_id != actor.client_organization_id or not actor.allows("AuditEvent", "s"):
            raise Forbidden("A client may read only its own organisation's audit log, with the AuditEvent scope.")
    else:
        require_admin(actor, organization_id)
    own_patients = Patient.objects.filter(organization_id=organization_id).values("pk")
    rows = AuditEvent.objects.filter(Q(organization_id=organization_id) | Q(patient_id__in=own_patients))
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if action:
        rows = rows.filter(action=action)
    if since is not None:
        rows = rows.filter(recorded_at__gte=since)
    if until is not None:
        rows = rows.filter(recorded_at__lt=until)
    return rows.order_by("-seq")
