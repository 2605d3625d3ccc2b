"""JSON API: the network's organisations and the roles people hold in them."""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from oncoliaison.apiauth import CHANNEL, actor_of, expected_version
from oncoliaison.core.access import require_scope, require_staff
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id
from oncoliaison.core.versions import etag

from . import selectors, services
from .models import Membership, Organization, OrganizationKind
from .schemas import (
    MembershipIn,
    MembershipOut,
    MembershipPatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
)

router = Router(tags=["organisations"])


class OrganizationFilter(Schema):
    kind: OrganizationKind | None = None
    active: bool | None = None


def _organization(request: HttpRequest, slug: str, letter: str | None = "r") -> Organization:
    """The organisation by slug; ``letter`` is the Organization scope a token needs (None: none)."""
    actor = actor_of(request)
    require_staff(actor)
    if letter:
        require_scope(actor, "Organization", letter)
    org = selectors.organization_list_for(actor).filter(slug=slug).first()
    if org is None:
        raise NotFound()
    return org


def _org_data(org: Organization) -> services.OrganizationData:
    return services.OrganizationData(
        **{f.name: getattr(org, f.name) for f in dataclasses.fields(services.OrganizationData)}
    )


@router.get("/organisations", response={200: list[OrganizationOut], **READ_ERRORS})
def organization_list(request: HttpRequest, filters: Query[OrganizationFilter]) -> list[Organization]:
    """The network directory (staff and API clients)."""
    actor = actor_of(request)
    require_staff(actor)
    require_scope(actor, "Organization", "s")
    qs = selectors.organization_list_for(actor)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return list(qs.order_by("name", "id"))


@router.post("/organisations", response={201: OrganizationOut, **CREATE_ERRORS})
def organization_create(request: HttpRequest, payload: OrganizationIn,
                        response: HttpResponse) -> Status[Organization]:
    """Add an organisation to the network (administrators of a lead cancer program)."""
    actor = actor_of(request)
    org = services.organization_create(actor=actor, data=services.OrganizationData(**payload.dict()), channel=CHANNEL)
    response["ETag"] = etag(org.version)
    return Status(201, org)


@router.get("/organisations/{slug}", response={200: OrganizationOut, **READ_ERRORS})
def organization_get(request: HttpRequest, slug: str, response: HttpResponse) -> Organization:
    org = _organization(request, slug)
    response["ETag"] = etag(org.version)
    return org


@router.patch("/organisations/{slug}", response={200: OrganizationOut, **WRITE_ERRORS})
def organization_update(
    request: HttpRequest, slug: str, payload: OrganizationPatch, response: HttpResponse
) -> Organization:
    """Change an organisation's details (its administrators; a client only its own organisation)."""
    actor = actor_of(request)
    org = _organization(request, slug, None)
    version = expected_version(request, payload.version)
    data = dataclasses.replace(_org_data(org), **payload.dict(exclude_unset=True, exclude={"version"}))
    org = services.organization_update(
        actor=actor, organization=org, data=data, expected_version=version, channel=CHANNEL
    )
    response["ETag"] = etag(org.version)
    return org


# --- memberships -----------------------------------------------------------------------------------


def _own_organization(request: HttpRequest, slug: str) -> Organization:
    """An organisation whose roles the caller may see: one they belong to."""
    actor = actor_of(request)
    org = _organization(request, slug, None)
    if org.pk not in actor.organization_ids:
        raise Forbidden("You can see and manage roles only in your own organisations.")
    return org


@router.get(
    "/organisations/{slug}/memberships", response={200: list[MembershipOut], **READ_ERRORS}
)
def membership_list(request: HttpRequest, slug: str) -> list[Membership]:
    actor = actor_of(request)
    org = _own_organization(request, slug)
    require_scope(actor, "PractitionerRole", "s")
    return list(selectors.membership_list_for(actor).filter(organization=org).order_by("id"))


@router.post(
    "/organisations/{slug}/memberships", response={201: MembershipOut, **CREATE_ERRORS}
)
def membership_create(request: HttpRequest, slug: str, payload: MembershipIn,
                      response: HttpResponse) -> Status[Membership]:
    """Give a staff member a role in the organisation (its administrators)."""
    actor = actor_of(request)
    org = _own_organization(request, slug)
    data = services.MembershipData(organization_id=org.pk, **payload.dict())
    membership = services.membership_create(actor=actor, data=data, channel=CHANNEL)
    membership = selectors.membership_list_for(actor).get(pk=membership.pk)
    response["ETag"] = etag(membership.version)
    return Status(201, membership)


@router.patch(
    "/organisations/{slug}/memberships/{membership_id}",
    response={200: MembershipOut, **WRITE_ERRORS},
)
def membership_update(
    request: HttpRequest, slug: str, membership_id: Id, payload: MembershipPatch, response: HttpResponse
) -> Membership:
    """Change or end a role (set ``active`` to false)."""
    actor = actor_of(request)
    org = _own_organization(request, slug)
    membership = selectors.membership_list_for(actor).filter(organization=org, pk=membership_id).first()
    if membership is None:
        raise NotFound()
    version = expected_version(request, payload.version)
    current = services.MembershipData(
        user_id=membership.user_id, organization_id=membership.organization_id, role=membership.role,
        title=membership.title, specialty_code=membership.specialty_code, active=membership.active,
    )
    data = dataclasses.replace(current, **payload.dict(exclude_unset=True, exclude={"version"}))
    services.membership_update(
        actor=actor, membership=membership, data=data, expected_version=version, channel=CHANNEL
    )
    membership = selectors.membership_list_for(actor).get(pk=membership.pk)
    response["ETag"] = etag(membership.version)
    return membership
