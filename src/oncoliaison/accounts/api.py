"""JSON API: who is calling."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from oncoliaison.apiauth import actor_of
from oncoliaison.core.schemas import MembershipRoleOut, MeOut, error_responses
from oncoliaison.organisations.models import Organization

from .models import User

router = Router(tags=["accounts"])


@router.get("/me", response={200: MeOut, **error_responses(401)})
def me(request: HttpRequest) -> MeOut:
    """The signed-in person (kind, roles per organisation) or the API client (organisation, scopes)."""
    actor = actor_of(request)
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in=actor.organization_ids)}
    if actor.is_system:
        org = orgs.get(actor.client_organization_id or 0)
        return MeOut(
            kind=actor.kind,
            username=actor.username,
            client_id=actor.client_id,
            organization=org.slug if org else None,
            scopes=sorted(str(actor.scopes).split()) if actor.scopes else [],
        )
    user = User.objects.get(pk=actor.user_id or 0)
    return MeOut(
        kind=actor.kind,
        user_id=actor.user_id,
        username=actor.username,
        display_name=user.display_name,
        roles=[
            MembershipRoleOut(organization=orgs[org_id].slug, organization_name=orgs[org_id].name,
                              organization_kind=kind, role=role)
            for org_id, role, kind in actor.memberships
            if org_id in orgs
        ],
        patient_id=actor.own_patient_id,
    )
