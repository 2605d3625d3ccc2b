"""Reads of organisations and memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from oncoliaison.core.actor import Actor

from .models import Membership, Organization


def organization_list_for(actor: Actor) -> QuerySet[Organization]:
    """The network directory: every staff member and system sees the organisations of the network
    (names, kinds, contact), as they need to address referrals and agreements.  Patients do not."""
    if actor.kind not in {"staff", "system"}:
        return Organization.objects.none()
    return Organization.objects.all()


def membership_list_for(actor: Actor) -> QuerySet[Membership]:
    """Memberships (PractitionerRoles) of the actor's own organisations."""
    if actor.kind not in {"staff", "system"}:
        return Membership.objects.none()
    return Membership.objects.filter(organization_id__in=actor.organization_ids).select_related("user", "organization")
