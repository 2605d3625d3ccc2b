"""JSON API: the organisation's audit log."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from oncoliaison.apiauth import CHANNEL, actor_of, page_of
from oncoliaison.core import audit
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.core.schemas import AuditEventPage, DateTime, Id, Int, error_responses
from oncoliaison.organisations.models import Organization

from . import selectors

router = Router(tags=["audit"])


class AuditFilter(Schema):
    organization: str | None = Field(
        None, description="Organisation slug; defaults to the one you administer (a client: its own)"
    )
    user_id: Id | None = None
    patient_id: Id | None = None
    action: AuditAction | None = None
    since: DateTime | None = Field(None, description="From this moment (inclusive); a date means its midnight")
    until: DateTime | None = Field(None, description="Up to this moment (exclusive)")
    page: Int = Field(1, ge=1)
    page_size: Int = Field(50, ge=1, le=100)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, timezone.get_current_timezone())


@router.get("/audit-events", response={200: AuditEventPage, **error_responses(401, 403, 404, 422)})
def audit_event_list(request: HttpRequest, filters: Query[AuditFilter]) -> dict[str, object]:
    """Audit events of an organisation: its people's actions and any action on its patients' records.

    For the organisation's administrators (program administrator or CLP) and for API clients with an
    AuditEvent search scope (own organisation only).  Reading the log is itself audited."""
    actor = actor_of(request)
    if filters.organization:
        org_id = Organization.objects.filter(slug=filters.organization).values_list("pk", flat=True).first()
        if org_id is None:
            raise NotFound()
    elif actor.is_system:
        org_id = actor.client_organization_id
    else:
        admin_orgs = actor.admin_organization_ids()
        org_id = actor.primary_organization_id if actor.primary_organization_id in admin_orgs else (
            min(admin_orgs) if admin_orgs else None
        )
    if org_id is None:
        raise Forbidden("Reading the audit log needs the program administrator or CLP role.")
    rows = selectors.audit_event_list_for(
        actor, org_id, user_id=filters.user_id, patient_id=filters.patient_id,
        action=filters.action or "", since=_aware(filters.since), until=_aware(filters.until),
    )
    items, meta = page_of(rows, page=filters.page, page_size=filters.page_size)
    audit.log(actor, AuditAction.READ, category="audit-log", resource_type="AuditEvent",
              detail=f"audit events page {meta['page']}, organisation {org_id}", channel=CHANNEL)
    return {**meta, "items": items}
